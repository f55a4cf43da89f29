/* cli_text: text that goes into one-line messages: control characters and
 * invalid UTF-8 escaped, long text shortened without cutting the rest off. */
#ifndef CLI_TEXT_H
#define CLI_TEXT_H

#include <stddef.h>

/* Room for any message mvpmu prints: a PATH_MAX path, escaped, and more. */
#define CLI_ERR_MAX 8192

/* Copies `len` bytes of `src` into `dst` (always terminated), with every
 * byte below 0x20, DEL, C1 controls and bytes that are not valid UTF-8
 * written as \xNN (and a backslash as \\).  When `max` is not 0, keeps
 * at most `max` bytes of the source and marks the cut with "...".
 * Returns strlen(dst). */
size_t cli_escape(char *dst, size_t size, const char *src, size_t len, size_t max);

/* The same for a C string. */
size_t cli_escape_str(char *dst, size_t size, const char *src, size_t max);

/* True when `len` bytes of `s` are valid UTF-8 with no control characters
 * (C0, DEL, C1) and no NUL. */
int cli_text_clean(const char *s, size_t len);

#endif
