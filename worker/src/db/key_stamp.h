// The time stamp of object keys (yyyymmddThhmmssZ, UTC), made by
// PostgreSQL from a job's created_at: a task's file and a batch's
// ZIP take their job's creation time, the same on every claim, so the keys
// of all claims can be computed again (retention).
#pragma once

// SQL text of the stamp of the timestamptz column `column`; spliced into
// statements as a string literal.
#define ENCONVERT_KEY_STAMP_SQL(column) \
    "to_char(" column " AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')"
