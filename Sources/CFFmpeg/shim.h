#ifndef REEL_CFFMPEG_SHIM_H
#define REEL_CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libavutil/timestamp.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

// AVERROR(e) and friends are macros Swift cannot import.
static inline int reel_averror(int e) { return AVERROR(e); }
static inline int reel_averror_eof(void) { return AVERROR_EOF; }
static inline int reel_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int64_t reel_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational reel_av_time_base_q(void) { return AV_TIME_BASE_Q; }

// AVFrame.data/linesize are fixed C arrays that Swift imports as tuples; swscale and
// swresample want them as plain pointers, which Swift cannot take from a tuple field.
static inline uint8_t **reel_frame_data(AVFrame *f) { return f->data; }
static inline int *reel_frame_linesize(AVFrame *f) { return f->linesize; }
// swr_convert wants `const uint8_t **`; Swift will not convert `uint8_t **` to it implicitly.
static inline int reel_swr_convert(struct SwrContext *s, uint8_t **out, int out_count, uint8_t **in, int in_count) {
    return swr_convert(s, out, out_count, (const uint8_t **)in, in_count);
}
// Likewise sws_scale wants `const uint8_t *const *` for its source planes.
static inline int reel_sws_scale(struct SwsContext *c, uint8_t **src, const int *src_stride, int y, int h,
                                 uint8_t **dst, const int *dst_stride) {
    return sws_scale(c, (const uint8_t *const *)src, src_stride, y, h, dst, dst_stride);
}
#endif
