/* Post-processing: score, threshold and debounce, one decision per window. */
#include "zgen_internal.h"

float zgen_tensor_get(const struct zgen_tensor *t, const void *data, uint32_t i)
{
	switch (t->dtype) {
	case ZGEN_DTYPE_INT8:
		return (float)((int32_t)((const int8_t *)data)[i] - t->zero_point) * t->scale;
	case ZGEN_DTYPE_UINT8:
		return (float)((int32_t)((const uint8_t *)data)[i] - t->zero_point) * t->scale;
	default:
		return ((const float *)data)[i];
	}
}

float zgen_score(const struct zgen_config *cfg, const void *input, const void *output)
{
	if (cfg->score == ZGEN_SCORE_OUTPUT) {
		return zgen_tensor_get(&cfg->output, output, 0);
	}
	/* Reconstruction error against what the model was given, in real units. */
	float acc = 0.0f;

	for (uint32_t i = 0; i < cfg->output.count; i++) {
		float d = zgen_tensor_get(&cfg->output, output, i) -
			  zgen_tensor_get(&cfg->input, input, i);
		float sq = d * d;

		acc += sq;
	}
	return acc / (float)cfg->output.count;
}

size_t zgen_decide(struct zgen_pipeline *p, const void *input, const void *output, char *line,
		   bool *changed)
{
	const struct zgen_config *cfg = p->cfg;
	float score = zgen_score(cfg, input, output);
	bool on = cfg->threshold_above ? score > cfg->threshold : score < cfg->threshold;
	struct zgen_buf b;

	*changed = false;
	if (on != p->state) {
		if (++p->streak >= cfg->debounce) {
			p->state = on;
			p->streak = 0;
			*changed = true;
		}
	} else {
		p->streak = 0;
	}

	zgen_buf_init(&b, line);
	zgen_buf_str(&b, "zgen: t=");
	zgen_buf_u32(&b, zgen_now(p));
	zgen_buf_str(&b, " win=");
	zgen_buf_u32(&b, p->count.windows);
	zgen_buf_str(&b, " score=");
	zgen_buf_fixed(&b, score, cfg->score_decimals);
	zgen_buf_str(&b, " state=");
	zgen_buf_str(&b, p->state ? cfg->state_on : cfg->state_off);
	if (*changed) {
		zgen_buf_str(&b, " event=");
		zgen_buf_str(&b, p->state ? cfg->state_on : cfg->state_off);
	}
	p->count.windows++;
	return zgen_buf_end(&b);
}
