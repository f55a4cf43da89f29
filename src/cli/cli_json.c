/* cli_json: unsigned 64-bit integers in jansson documents.  jansson builds,
 * escapes and prints everything; only the digits of values above
 * INT64_MAX, which jansson cannot hold, are put in after it has printed a
 * unique placeholder string for each. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "cli_report.h"

/* The marker key, and the placeholder text jansson prints for a marker:
 * "\u0001u64:DIGITS".  Other strings never contain U+0001 when printed
 * (prepare() writes it as the text \x01), so the placeholder is unique. */
#define U64_KEY "\001u64"
#define PLACEHOLDER "\"\\u0001u64:"

json_t *cli_json_u64(uint64_t v)
{
	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	return json_pack("{s:I}", U64_KEY, (json_int_t)v);
}

static bool is_marker(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 &&
	       json_is_integer(json_object_get(v, U64_KEY));
}

uint64_t cli_json_u64_value(const json_t *v)
{
	if (is_marker(v))
		return (uint64_t)json_integer_value(json_object_get(v, U64_KEY));
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return (uint64_t)json_integer_value(v);
	return 0;
}

/* A string with every U+0001 written as the text \x01. */
static json_t *clean_string(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), n = 0;
	json_t *out;
	char *buf;

	if (!memchr(s, 1, len))
		return json_stringn(s, len);
	buf = malloc(4 * len + 1);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 1) {
			memcpy(buf + n, "\\x01", 4);
			n += 4;
		} else {
			buf[n++] = s[i];
		}
	}
	out = json_stringn(buf, n);
	free(buf);
	return out;
}

/* A copy of v for printing: markers become placeholder strings. */
static json_t *prepare(const json_t *v)
{
	json_t *out = NULL, *item;
	const char *key;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (is_marker(v)) {
			char buf[32];

			snprintf(buf, sizeof(buf), "\001u64:%" PRIu64, cli_json_u64_value(v));
			return json_string(buf);
		}
		out = json_object();
		json_object_foreach((json_t *)v, key, item)
			if (!out || json_object_set_new(out, key, prepare(item)))
				goto fail;
		return out;
	case JSON_ARRAY:
		out = json_array();
		json_array_foreach(v, i, item)
			if (!out || json_array_append_new(out, prepare(item)))
				goto fail;
		return out;
	case JSON_STRING:
		return clean_string(v);
	default:
		return json_deep_copy(v);
	}
fail:
	json_decref(out);
	return NULL;
}

int cli_json_dumpf(const json_t *doc, FILE *f)
{
	json_t *copy = doc ? prepare(doc) : NULL;
	char *text = copy ? json_dumps(copy, CLI_JSON_FLAGS) : NULL;
	char *r, *w;
	int ret = -1;

	json_decref(copy);
	if (!text)
		return -1;
	/* "\u0001u64:DIGITS" -> DIGITS, in place (the text only shrinks). */
	for (r = w = text; *r;) {
		if (!strncmp(r, PLACEHOLDER, strlen(PLACEHOLDER))) {
			r += strlen(PLACEHOLDER);
			while (*r >= '0' && *r <= '9')
				*w++ = *r++;
			r++;	/* the closing quote */
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
	if (fputs(text, f) != EOF && fputc('\n', f) != EOF)
		ret = 0;
	free(text);
	return ret;
}
