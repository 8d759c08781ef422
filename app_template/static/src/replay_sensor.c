/*
 * zgen replay sensor: each sample_fetch() advances to the next recorded
 * sample; channel_get() returns it as struct sensor_value, exactly as the
 * recording's decimals give it. At the end of the data sample_fetch() returns
 * -ENODATA, which the app reports as the end of the run.
 */
#define DT_DRV_COMPAT zgen_replay_sensor

#include <errno.h>
#include <zephyr/device.h>
#include <zephyr/drivers/sensor.h>
#include <zephyr/kernel.h>

#include "replay.h"

struct replay_config {
	uint32_t stream;
};

struct replay_data {
	uint32_t next;    /* sample returned by the next fetch */
	uint32_t current; /* sample channel_get() returns */
	uint32_t fault;   /* the first of zgen_replay_faults not yet behind `next` */
	bool fetched;
	bool stalled;     /* the current fault's stall happened */
};

static const int32_t pow10_micro[] = {1000000, 100000, 10000, 1000, 100, 10, 1};

static uint32_t cfg_stream(const struct device *dev)
{
	const struct replay_config *cfg = dev->config;

	return cfg->stream;
}

static const struct zgen_replay_stream *stream_of(const struct device *dev)
{
	const struct replay_config *cfg = dev->config;

	return &zgen_replay_streams[cfg->stream];
}

static int replay_sample_fetch(const struct device *dev, enum sensor_channel chan)
{
	const struct zgen_replay_stream *s = stream_of(dev);
	struct replay_data *d = dev->data;

	if (chan != SENSOR_CHAN_ALL && chan != s->channel) {
		return -ENOTSUP;
	}
	/* Injected faults (test.faults), sample by sample: every stream keeps its own place, so the
	 * streams stay aligned (the app fetches each even after one failed). */
	while (d->fault < zgen_replay_fault_count) {
		const struct zgen_replay_fault *f = &zgen_replay_faults[d->fault];
		uint32_t span = f->kind == ZGEN_FAULT_STALL_MS ? 1U : f->amount;

		if (d->next >= f->sample + span) {
			d->fault++;
			d->stalled = false;
			continue;
		}
		if (d->next < f->sample) {
			break;
		}
		if (f->kind == ZGEN_FAULT_READ_ERRORS) {
			d->next++;
			d->fetched = false;
			return -EIO;
		}
		if (f->kind == ZGEN_FAULT_DROP) {
			d->next = f->sample + f->amount;
			continue;
		}
		if (!d->stalled) {
			d->stalled = true;
			if (cfg_stream(dev) == 0U) { /* one stall per sample, not one per stream */
				k_busy_wait(f->amount * 1000U);
			}
		}
		break;
	}
	if (d->next >= s->samples) {
		return -ENODATA;
	}
	d->current = d->next++;
	d->fetched = true;
	return 0;
}

static int replay_channel_get(const struct device *dev, enum sensor_channel chan,
			      struct sensor_value *val)
{
	const struct zgen_replay_stream *s = stream_of(dev);
	const struct replay_data *d = dev->data;

	if (chan != s->channel) {
		return -ENOTSUP;
	}
	if (!d->fetched) {
		return -ENODATA;
	}
	for (uint8_t i = 0; i < s->values; i++) {
		size_t at = (size_t)d->current * s->values + i;
		int64_t raw = s->wide ? ((const int32_t *)s->data)[at] : ((const int16_t *)s->data)[at];
		int64_t micro = raw * pow10_micro[s->decimals];

		/* C division truncates, so val2 carries val1's sign, as Zephyr expects. */
		val[i].val1 = (int32_t)(micro / 1000000);
		val[i].val2 = (int32_t)(micro % 1000000);
	}
	return 0;
}

static int replay_init(const struct device *dev)
{
	const struct replay_config *cfg = dev->config;

	return cfg->stream < zgen_replay_stream_count ? 0 : -EINVAL;
}

static const struct sensor_driver_api replay_api = {
	.sample_fetch = replay_sample_fetch,
	.channel_get = replay_channel_get,
};

#define REPLAY_DEFINE(inst)                                                                        \
	static struct replay_data replay_data_##inst;                                              \
	static const struct replay_config replay_config_##inst = {                                 \
		.stream = DT_INST_PROP(inst, stream),                                              \
	};                                                                                         \
	SENSOR_DEVICE_DT_INST_DEFINE(inst, replay_init, NULL, &replay_data_##inst,                 \
				     &replay_config_##inst, POST_KERNEL,                           \
				     CONFIG_SENSOR_INIT_PRIORITY, &replay_api);

DT_INST_FOREACH_STATUS_OKAY(REPLAY_DEFINE)
