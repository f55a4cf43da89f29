/* printf: a small formatter for the serial console (no floating point). */
#include "mvpmu-guest.h"

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void number(struct out *o, uint64_t v, unsigned base, bool upper, bool neg,
		   unsigned width, bool zero)
{
	char tmp[24];
	unsigned n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	for (unsigned i = n; i < width; i++)
		put(o, zero ? '0' : ' ');
	while (n)
		put(o, tmp[--n]);
}

int mvg_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };

	for (; *fmt; fmt++) {
		unsigned width = 0, lng = 0;
		bool zero = false, alt = false;
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '#') {
			alt = true;
			fmt++;
		}
		if (*fmt == '0') {
			zero = true;
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': case 'i':
			s = lng ? va_arg(ap, long) : va_arg(ap, int);
			number(&o, s < 0 ? (uint64_t)-s : (uint64_t)s, 10, false, s < 0, width, zero);
			break;
		case 'u':
			u = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			number(&o, u, 10, false, false, width, zero);
			break;
		case 'x': case 'X':
			u = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			if (alt) {
				put(&o, '0');
				put(&o, 'x');
			}
			number(&o, u, 16, *fmt == 'X', false, width, zero);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			number(&o, (uint64_t)va_arg(ap, void *), 16, false, false, width, zero);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			for (str = str ? str : "(null)"; *str; str++)
				put(&o, *str);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '%');
			if (*fmt)
				put(&o, *fmt);
			else
				fmt--;
			break;
		}
	}
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return (int)o.pos;
}

int mvg_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = mvg_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

int mvg_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = mvg_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mvg_puts(buf);
	return n;
}
