/* Sample ring buffer and window scheduling. */
#include <string.h>

#include "zgen_internal.h"

float zgen_sensor_value_to_float(int32_t val1, int32_t val2)
{
	return (float)val1 + (float)val2 / 1000000.0f;
}

int zgen_init(struct zgen_pipeline *p, const struct zgen_config *cfg, const struct zgen_buffers *buf)
{
	if (cfg->channels == 0 || cfg->channels > ZGEN_MAX_CHANNELS || cfg->window_length == 0 ||
	    cfg->window_stride == 0 || cfg->window_stride > cfg->window_length || cfg->debounce == 0 ||
	    cfg->average == 0 || (cfg->scratch_len > 0U && buf->scratch == NULL) ||
	    (cfg->state_words > 0U && buf->state == NULL) ||
	    (cfg->frame_count > 0U && (buf->stack == NULL || cfg->frame_stride == 0U)) ||
	    (cfg->average > 1U && buf->history == NULL) ||
	    (cfg->score == ZGEN_SCORE_CLASS &&
	     (cfg->classes < 2U || cfg->classes > ZGEN_MAX_CLASSES || cfg->classes > cfg->output.count ||
	      cfg->labels == NULL)) ||
	    (cfg->score == ZGEN_SCORE_OUTPUT && cfg->score_index >= cfg->output.count) ||
	    cfg->gate_index >= (int32_t)cfg->output.count || cfg->top_k > ZGEN_MAX_TOP_K ||
	    (cfg->top_k > 0U && (cfg->score != ZGEN_SCORE_CLASS || cfg->top_k > cfg->classes)) ||
	    cfg->output_count > ZGEN_MAX_OUTPUTS || (cfg->output_count > 0U && cfg->outputs == NULL)) {
		return -1;
	}
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->ring = buf->ring;
	p->work = buf->work;
	p->scratch = buf->scratch;
	p->state_words = buf->state;
	p->stack = buf->stack;
	p->history = buf->history;
	p->until_ready = cfg->window_length;
	for (uint32_t i = 0; i < cfg->output_count; i++) {
		/* a level output that follows the off state starts high */
		if (cfg->outputs[i].kind == ZGEN_OUTPUT_LEVEL && cfg->outputs[i].state == 0) {
			p->levels |= 1UL << i;
		}
	}
	zgen_features_reset(p);
	return 0;
}

bool zgen_push(struct zgen_pipeline *p, const float *sample)
{
	const struct zgen_config *cfg = p->cfg;

	memcpy(&p->ring[(size_t)p->head * cfg->channels], sample, cfg->channels * sizeof(float));
	p->head = (p->head + 1U == cfg->window_length) ? 0U : p->head + 1U;
	if (p->filled < cfg->window_length) {
		p->filled++;
	}
	p->count.samples++;
	if (--p->until_ready == 0U) {
		p->until_ready = cfg->window_stride;
		return true;
	}
	return false;
}

uint32_t zgen_now(const struct zgen_pipeline *p)
{
	return p->count.samples == 0U ? 0U : p->count.samples - 1U;
}
