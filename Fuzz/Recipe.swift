import CVMFSImages

/// `convert` recipes: `Recipe(text:)`, then every input and profile name through
/// `ImageReference.parse` as the converter's `expandInputs` does. A parsed recipe has a
/// repository, version 1, at least one input, and profiles only for its inputs.
let recipeHarness = Harness(
    name: "recipe",
    summary: "Recipe(text:) and ImageReference.parse of its inputs"
) { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    guard let recipe = try? Recipe(text: text) else {
        for line in text.split(separator: "\n").prefix(8) { _ = try? ImageReference.parse(String(line)) }
        return
    }
    FuzzCheck.require(recipe.version == 1 && !recipe.repository.isEmpty && !recipe.inputs.isEmpty, "an incomplete recipe parsed")
    for image in recipe.profiles.keys { FuzzCheck.require(recipe.inputs.contains(image), "a profile for an image not in input") }
    for input in recipe.inputs {
        for insecure in [false, true] {
            guard let reference = try? ImageReference.parse(input, insecure: insecure) else { continue }
            // An unresolved `docker-archive:` input has neither tag nor digest, hence no public path yet.
            if reference.tag != nil || reference.digest != nil { _ = (reference.publicPath, reference.description) }
            _ = (reference.metadataPath, reference.hasWildcard)
        }
    }
}
