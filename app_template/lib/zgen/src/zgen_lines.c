/* Event lines, formatted with integer arithmetic only so that every libc
 * prints the same text. */
#include "zgen_internal.h"

void zgen_buf_init(struct zgen_buf *b, char *line)
{
	b->s = line;
	b->len = 0;
	line[0] = '\0';
}

void zgen_buf_str(struct zgen_buf *b, const char *s)
{
	while (*s != '\0' && b->len < ZGEN_LINE_MAX - 1U) {
		b->s[b->len++] = *s++;
	}
	b->s[b->len] = '\0';
}

static void buf_u64(struct zgen_buf *b, uint64_t v, uint8_t min_digits)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10U));
		v /= 10U;
	} while (v != 0U || n < min_digits);
	while (n > 0U && b->len < ZGEN_LINE_MAX - 1U) {
		b->s[b->len++] = tmp[--n];
	}
	b->s[b->len] = '\0';
}

void zgen_buf_u32(struct zgen_buf *b, uint32_t v)
{
	buf_u64(b, v, 1);
}

void zgen_buf_i32(struct zgen_buf *b, int32_t v)
{
	if (v < 0) {
		zgen_buf_str(b, "-");
		buf_u64(b, (uint64_t)(-(int64_t)v), 1);
	} else {
		buf_u64(b, (uint64_t)v, 1);
	}
}

void zgen_buf_fixed(struct zgen_buf *b, float v, uint8_t decimals)
{
	static const uint32_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	uint32_t unit;
	float scaled;
	uint64_t q;
	bool neg = v < 0.0f;

	decimals = decimals > 6U ? 6U : decimals;
	unit = pow10[decimals];
	scaled = (neg ? -v : v) * (float)unit;
	/* NaN fails both comparisons and prints as 0; huge values saturate. */
	if (!(scaled < 2.0e9f)) {
		scaled = scaled >= 2.0e9f ? 2.0e9f : 0.0f;
	}
	q = (uint64_t)(scaled + 0.5f);
	if (neg && q != 0U) {
		zgen_buf_str(b, "-");
	}
	buf_u64(b, q / unit, 1);
	if (decimals > 0U) {
		zgen_buf_str(b, ".");
		buf_u64(b, q % unit, decimals);
	}
}

size_t zgen_buf_end(struct zgen_buf *b)
{
	return b->len;
}

size_t zgen_line_start(char *line, const char *version, const char *app, const char *model_hash,
		       const struct zgen_config *cfg, uint32_t arena_used, uint32_t arena_size)
{
	struct zgen_buf b;

	zgen_buf_init(&b, line);
	zgen_buf_str(&b, "zgen: start version=");
	zgen_buf_str(&b, version);
	zgen_buf_str(&b, " app=");
	zgen_buf_str(&b, app);
	zgen_buf_str(&b, " model=");
	zgen_buf_str(&b, model_hash);
	zgen_buf_str(&b, " rate_hz=");
	zgen_buf_u32(&b, cfg->rate_hz);
	zgen_buf_str(&b, " window=");
	zgen_buf_u32(&b, cfg->window_length);
	zgen_buf_str(&b, "/");
	zgen_buf_u32(&b, cfg->window_stride);
	zgen_buf_str(&b, " arena_used=");
	zgen_buf_u32(&b, arena_used);
	zgen_buf_str(&b, " arena_size=");
	zgen_buf_u32(&b, arena_size);
	return zgen_buf_end(&b);
}

static void line_at(struct zgen_buf *b, const struct zgen_pipeline *p, char *line)
{
	zgen_buf_init(b, line);
	zgen_buf_str(b, "zgen: t=");
	zgen_buf_u32(b, p->count.samples);
}

size_t zgen_line_read_error(struct zgen_pipeline *p, char *line, int err)
{
	struct zgen_buf b;

	p->count.read_errors++;
	/* The failed read would have been sample number `samples`. */
	line_at(&b, p, line);
	zgen_buf_str(&b, " read_error=");
	zgen_buf_i32(&b, err);
	return zgen_buf_end(&b);
}

size_t zgen_line_overrun(struct zgen_pipeline *p, char *line, uint32_t missed)
{
	struct zgen_buf b;

	p->count.overruns += missed;
	line_at(&b, p, line);
	zgen_buf_str(&b, " overrun=");
	zgen_buf_u32(&b, missed);
	return zgen_buf_end(&b);
}

size_t zgen_line_end(const struct zgen_pipeline *p, char *line)
{
	struct zgen_buf b;

	zgen_buf_init(&b, line);
	zgen_buf_str(&b, "zgen: end samples=");
	zgen_buf_u32(&b, p->count.samples);
	zgen_buf_str(&b, " windows=");
	zgen_buf_u32(&b, p->count.windows);
	zgen_buf_str(&b, " read_errors=");
	zgen_buf_u32(&b, p->count.read_errors);
	zgen_buf_str(&b, " overruns=");
	zgen_buf_u32(&b, p->count.overruns);
	return zgen_buf_end(&b);
}
