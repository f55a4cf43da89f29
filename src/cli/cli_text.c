/* cli_text: escaping for one-line messages (control characters, invalid
 * UTF-8) so that an error line never carries raw bytes to a terminal. */
#include <stdio.h>
#include <string.h>

#include "cli_text.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes are
 * not one (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned c = s[0], n, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* C0 controls, DEL and the C1 controls U+0080..U+009F (0xC2 0x80..0x9F). */
static int is_control(const unsigned char *s, size_t n)
{
	return (n == 1 && (s[0] < 0x20 || s[0] == 0x7F)) ||
	       (n == 2 && s[0] == 0xC2 && s[1] < 0xA0);
}

size_t cli_escape(char *dst, size_t size, const char *src, size_t len, size_t max)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0, keep = max && len > max ? max : len;

	if (!size)
		return 0;
	while (i < keep) {
		size_t n = utf8_len(s + i, len - i);
		char buf[16];
		size_t blen;

		if (n && !is_control(s + i, n) && s[i] != '\\') {
			memcpy(buf, s + i, n);
			blen = n;
		} else {
			n = n ? n : 1;
			blen = 0;
			for (size_t k = 0; k < n; k++)
				blen += (size_t)snprintf(buf + blen, sizeof(buf) - blen,
							 s[i + k] == '\\' ? "\\\\" : "\\x%02x",
							 s[i + k]);
		}
		if (i + n > keep && keep < len)
			break;	/* a character cut by `max`: leave it out whole */
		if (o + blen + 4 > size)
			break;
		memcpy(dst + o, buf, blen);
		o += blen;
		i += n;
	}
	if (i < len && o + 4 <= size) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = 0;
	return o;
}

size_t cli_escape_str(char *dst, size_t size, const char *src, size_t max)
{
	return cli_escape(dst, size, src, strlen(src), max);
}

int cli_text_clean(const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(s + i, len - i);

		if (!n || s[i] == 0 || is_control(s + i, n))
			return 0;
		i += n;
	}
	return 1;
}
