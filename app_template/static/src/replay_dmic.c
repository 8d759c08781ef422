/*
 * zgen replay microphone: a DMIC driver (Zephyr's audio/dmic.h API) that
 * plays the recording's PCM in blocks at the real rate: each block is due one
 * block period after the previous one, counted from DMIC_TRIGGER_START, and
 * dmic_read() waits until it is (it never drops one: a late reader gets the
 * overdue blocks at once, and the app reports the lateness). Blocks come
 * from the stream's memory slab, as from a real driver. After the recording
 * dmic_read() returns -ENODATA, which the app reports as the end of the run.
 *
 * Injected faults (test.faults, by PCM sample), each on the first read whose
 * block reaches the fault's sample: read_errors N fail that read and the N - 1
 * after it with -EIO, each losing its block of audio; drop N skips N samples
 * from that sample on (no error: the audio after it moves up); stall_ms T
 * holds that read T ms longer. zgen.runtime.stream predicts the same.
 */
#define DT_DRV_COMPAT zgen_replay_dmic

#include <errno.h>
#include <string.h>
#include <zephyr/audio/dmic.h>
#include <zephyr/device.h>
#include <zephyr/kernel.h>

#include "replay.h"

struct replay_dmic_data {
	struct k_mem_slab *slab;
	uint32_t block_samples;
	uint32_t next;     /* first sample of the next block */
	uint32_t blocks;   /* blocks handed out since start */
	int64_t started;   /* k_uptime_ticks() at DMIC_TRIGGER_START */
	uint32_t rate;
	uint32_t fault;    /* the first of zgen_replay_faults not yet injected */
	uint32_t failing;  /* reads still to fail (read_errors) */
	bool running;
};

static int replay_dmic_configure(const struct device *dev, struct dmic_cfg *cfg)
{
	struct replay_dmic_data *d = dev->data;
	struct pcm_stream_cfg *s = &cfg->streams[0];

	if (cfg->channel.req_num_streams != 1U || cfg->channel.req_num_chan != 1U ||
	    s->pcm_width != 16U || s->mem_slab == NULL || s->block_size < 2U ||
	    s->pcm_rate != zgen_replay_pcm_rate) {
		return -EINVAL;
	}
	d->slab = s->mem_slab;
	d->block_samples = s->block_size / 2U;
	d->rate = s->pcm_rate;
	cfg->channel.act_num_streams = 1;
	cfg->channel.act_num_chan = 1;
	return 0;
}

static int replay_dmic_trigger(const struct device *dev, enum dmic_trigger cmd)
{
	struct replay_dmic_data *d = dev->data;

	switch (cmd) {
	case DMIC_TRIGGER_START:
		if (d->slab == NULL) {
			return -EIO;
		}
		d->next = 0;
		d->blocks = 0;
		d->fault = 0;
		d->failing = 0;
		d->started = k_uptime_ticks();
		d->running = true;
		return 0;
	case DMIC_TRIGGER_STOP:
	case DMIC_TRIGGER_PAUSE:
		d->running = false;
		return 0;
	default:
		return -ENOTSUP;
	}
}

static int replay_dmic_read(const struct device *dev, uint8_t stream, void **buffer, size_t *size,
			    int32_t timeout)
{
	struct replay_dmic_data *d = dev->data;
	int64_t due;
	int16_t *out;
	uint32_t n;
	int err;

	ARG_UNUSED(timeout);
	if (stream != 0U || !d->running) {
		return -EIO;
	}
	if (d->next >= zgen_replay_pcm_samples) {
		return -ENODATA;
	}
	/* Block k is complete (k + 1) block periods after the start. */
	due = d->started + k_us_to_ticks_ceil64((uint64_t)(d->blocks + 1U) * d->block_samples *
						1000000U / d->rate);
	while (k_uptime_ticks() < due) {
		k_sleep(K_TICKS(due - k_uptime_ticks()));
	}
	d->blocks++;
	if (d->failing > 0U) {
		d->failing--;
		d->next += d->block_samples;
		return -EIO;
	}
	while (d->fault < zgen_replay_fault_count &&
	       zgen_replay_faults[d->fault].sample < d->next + d->block_samples) {
		const struct zgen_replay_fault *f = &zgen_replay_faults[d->fault];

		if (f->kind == ZGEN_FAULT_READ_ERRORS) {
			d->fault++;
			d->failing = f->amount - 1U;
			d->next += d->block_samples;
			return -EIO;
		}
		if (f->kind != ZGEN_FAULT_STALL_MS) {
			break; /* a drop: taken as the block is filled */
		}
		d->fault++;
		k_msleep((int32_t)f->amount);
	}
	err = k_mem_slab_alloc(d->slab, buffer, K_NO_WAIT);
	if (err != 0) {
		return -ENOMEM; /* the app holds every block: a real driver would drop audio */
	}
	out = *buffer;
	n = 0;
	while (n < d->block_samples) {
		while (d->fault < zgen_replay_fault_count &&
		       zgen_replay_faults[d->fault].kind == ZGEN_FAULT_DROP &&
		       zgen_replay_faults[d->fault].sample <= d->next) {
			d->next += zgen_replay_faults[d->fault].amount;
			d->fault++;
		}
		if (d->next >= zgen_replay_pcm_samples) {
			break;
		}
		out[n++] = zgen_replay_pcm[d->next++];
	}
	*size = n * sizeof(int16_t);
	return 0;
}

static const struct _dmic_ops replay_dmic_ops = {
	.configure = replay_dmic_configure,
	.trigger = replay_dmic_trigger,
	.read = replay_dmic_read,
};

#define REPLAY_DMIC_DEFINE(inst)                                                                   \
	static struct replay_dmic_data replay_dmic_data_##inst;                                    \
	DEVICE_DT_INST_DEFINE(inst, NULL, NULL, &replay_dmic_data_##inst, NULL, POST_KERNEL,       \
			      CONFIG_KERNEL_INIT_PRIORITY_DEVICE, &replay_dmic_ops);

DT_INST_FOREACH_STATUS_OKAY(REPLAY_DMIC_DEFINE)
