/* Outputs: what each decision does to the app's pins and callback, and the
 * line each action prints (so the firmware's actions are compared with
 * `zgen simulate` like its decisions). The pins themselves are the app's. */
#include "zgen_internal.h"

static bool follows(const struct zgen_pipeline *p, const struct zgen_output *o)
{
	if (o->state == ZGEN_OUTPUT_ANY) {
		return true;
	}
	if (o->state == ZGEN_OUTPUT_ANY_ON) {
		return p->state != 0U && p->state != zgen_state_unknown(p->cfg);
	}
	return p->state == (uint16_t)o->state;
}

uint8_t zgen_output_level(const struct zgen_pipeline *p, uint32_t output)
{
	return (uint8_t)((p->levels >> output) & 1U);
}

bool zgen_output_next(struct zgen_pipeline *p, uint32_t *next, struct zgen_action *a)
{
	const struct zgen_config *cfg = p->cfg;

	while (*next < cfg->output_count) {
		const uint32_t i = (*next)++;
		const struct zgen_output *o = &cfg->outputs[i];
		const bool on = follows(p, o);

		a->output = (uint8_t)i;
		a->kind = o->kind;
		a->level = on ? 1U : 0U;
		if (o->kind == ZGEN_OUTPUT_LEVEL) {
			if (zgen_output_level(p, i) != a->level) {
				p->levels ^= 1UL << i;
				return true;
			}
		} else if (p->event && on) {
			return true;
		}
	}
	return false;
}

size_t zgen_line_action(const struct zgen_pipeline *p, char *line, const struct zgen_action *a,
			uint8_t level)
{
	const struct zgen_output *o = &p->cfg->outputs[a->output];
	struct zgen_buf b;

	zgen_buf_init(&b, line);
	zgen_buf_str(&b, "zgen: t=");
	zgen_buf_u32(&b, zgen_now(p));
	zgen_buf_str(&b, " out=");
	zgen_buf_str(&b, o->name);
	if (a->kind == ZGEN_OUTPUT_LEVEL) {
		zgen_buf_str(&b, " level=");
		zgen_buf_u32(&b, level);
	} else if (a->kind == ZGEN_OUTPUT_PULSE) {
		zgen_buf_str(&b, " pulse_ms=");
		zgen_buf_u32(&b, o->pulse_ms);
		zgen_buf_str(&b, " level=");
		zgen_buf_u32(&b, level);
	} else {
		zgen_buf_str(&b, " state=");
		zgen_buf_str(&b, zgen_state_name(p->cfg, p->state));
	}
	return zgen_buf_end(&b);
}
