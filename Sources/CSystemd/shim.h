#ifndef REEL_CSYSTEMD_SHIM_H
#define REEL_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
// sd_journal_send is variadic; Swift calls sd_journal_sendv with an iovec array instead.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>
#endif
