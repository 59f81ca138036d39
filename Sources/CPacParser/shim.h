// Debian's libpacparser-dev ships no pkg-config file; the header and -lpacparser are enough.
#include <pacparser.h>
