/// The result of one `curl_easy_perform` plus the sink's verdict.
enum AttemptOutcome {
    case success(bytes: Int64)
    case failure(DownloadError, FailureClass)
}
