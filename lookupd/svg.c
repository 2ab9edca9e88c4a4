/*
 * svg - inline SVG charts and the escaper of the status page; see svg.h.
 */
#include "lookupd/svg.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* svg_utf8_len - the length of the valid UTF-8 sequence at s[0..len), or 0 */
static size_t svg_utf8_len(const unsigned char *s, size_t len)
{
    size_t n;
    uint32_t c;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, c = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, c = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, c = s[0] & 0x07;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
        (n == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0; /* over-long forms and surrogates */
    return n;
}

void svg_esc(FILE *fp, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < len;) {
        size_t n;
        switch (p[i]) {
        case '&':
            fputs("&amp;", fp);
            break;
        case '<':
            fputs("&lt;", fp);
            break;
        case '>':
            fputs("&gt;", fp);
            break;
        case '"':
            fputs("&quot;", fp);
            break;
        case '\'':
            fputs("&#39;", fp);
            break;
        case '\t':
        case '\n':
            fputc(p[i], fp);
            break;
        default:
            if (p[i] < 0x20 || p[i] == 0x7f || (n = svg_utf8_len(p + i, len - i)) == 0) {
                fputs("\xef\xbf\xbd", fp); /* U+FFFD */
                break;
            }
            fwrite(p + i, 1, n, fp);
            i += n;
            continue;
        }
        i++;
    }
}

void svg_escs(FILE *fp, const char *s)
{
    svg_esc(fp, s, strlen(s));
}

void svg_time(char *buf, size_t len, uint64_t t, enum svg_time_form form)
{
    time_t tt = (time_t)t;
    struct tm tm;
    size_t n;

    gmtime_r(&tt, &tm);
    switch (form) {
    case SVG_HHMM:
        n = strftime(buf, len, "%H:%M", &tm);
        break;
    case SVG_MINUTE:
        n = strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
        break;
    case SVG_SECOND:
        n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
        break;
    default:
        n = strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
        break;
    }
    if (n == 0 && len > 0)
        buf[0] = '\0';
}

#define SVG_W      720
#define SVG_LEFT   56 /* room for the y labels */
#define SVG_PLOT_W (SVG_W - SVG_LEFT - 8)

void svg_syncs(FILE *fp, const struct status_sync *syncs, size_t n)
{
    const int top = 14, dur_h = 110, gap = 18, chg_h = 44, h = top + dur_h + gap + chg_h + 20;
    uint64_t max_ms = 1, max_chg = 1;
    size_t k = n < SVG_SYNCS_MAX ? n : SVG_SYNCS_MAX;
    int slot = k > 0 ? SVG_PLOT_W / (int)(k < 12 ? 12 : k) : SVG_PLOT_W;
    int bar = slot > 4 ? slot - slot / 4 : slot;
    char a[32];

    for (size_t i = 0; i < k; i++) {
        uint64_t c = syncs[i].added + syncs[i].changed + syncs[i].removed;
        max_ms = syncs[i].duration_ms > max_ms ? syncs[i].duration_ms : max_ms;
        max_chg = c > max_chg ? c : max_chg;
    }
    fprintf(fp,
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"syncs-t\">"
            "<title id=\"syncs-t\">The last %zu sync attempts, oldest left: duration (bars) and "
            "addresses changed (below); red failed, amber refused</title>\n",
            SVG_W, h, SVG_W, h, k);
    fprintf(fp,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d0d7de\"/>"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d0d7de\"/>\n",
            SVG_LEFT, top + dur_h, SVG_W - 8, top + dur_h, SVG_LEFT, top + dur_h + gap, SVG_W - 8,
            top + dur_h + gap);
    if (max_ms >= 1000)
        snprintf(a, sizeof(a), "%" PRIu64 ".%" PRIu64 " s", max_ms / 1000, max_ms % 1000 / 100);
    else
        snprintf(a, sizeof(a), "%" PRIu64 " ms", max_ms);
    fprintf(fp,
            "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">%s </text>"
            "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">0 </text>"
            "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">%" PRIu64 " </text>"
            "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">changes </text>\n",
            SVG_LEFT - 4, top + 8, a, SVG_LEFT - 4, top + dur_h, SVG_LEFT - 4,
            top + dur_h + gap + chg_h, max_chg, SVG_LEFT - 4, top + dur_h + gap + 10);
    if (k == 0)
        fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"ax\">no sync recorded yet </text>\n",
                SVG_LEFT + 8, top + dur_h / 2);
    for (size_t j = 0; j < k; j++) {
        const struct status_sync *y = &syncs[k - 1 - j]; /* oldest first */
        uint64_t c = y->added + y->changed + y->removed;
        int x = SVG_LEFT + (int)j * slot + (slot - bar) / 2;
        int bh = (int)((uint64_t)dur_h * y->duration_ms / max_ms);
        int ch = (int)((uint64_t)chg_h * c / max_chg);
        const char *cls = y->result == STORE_HIST_OK        ? "ok"
                          : y->result == STORE_HIST_REFUSED ? "refused"
                                                            : "failed";

        if (bh < 2)
            bh = 2;
        if (c > 0 && ch < 2)
            ch = 2;
        svg_time(a, sizeof(a), y->time, SVG_MINUTE);
        fprintf(fp,
                "<g class=\"%s\"><title>%s UTC: %s in %" PRIu64 " ms, %s+%" PRIu64 " ~%" PRIu64
                " -%" PRIu64 ", generation %" PRIu64 "%s",
                cls, a, store_hist_result_name(y->result), y->duration_ms,
                y->result == STORE_HIST_OK ? "" : "not applied: ", y->added, y->changed, y->removed,
                y->gen_after, y->error[0] != '\0' ? ": " : "");
        svg_escs(fp, y->error);
        fputs("</title>", fp);
        if (y->result != STORE_HIST_OK)
            fprintf(fp, "<rect class=\"bad\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
                    SVG_LEFT + (int)j * slot, top, slot, dur_h);
        fprintf(fp, "<rect class=\"dur\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", x,
                top + dur_h - bh, bar, bh);
        if (ch > 0)
            fprintf(fp, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
                    y->result == STORE_HIST_OK ? "chg" : "chg-no", x, top + dur_h + gap, bar, ch);
        fputs("</g>\n", fp);
    }
    /* times under the bars: every 8th, and the newest with its zone */
    for (size_t j = 0; j < k; j++) {
        int last = j + 1 == k;
        if (j % 8 != 0 && !(last && j % 8 >= 4))
            continue;
        svg_time(a, sizeof(a), syncs[k - 1 - j].time, SVG_HHMM);
        fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">%s%s </text>\n",
                SVG_LEFT + (int)j * slot + slot / 2, h - 4, a, last ? " UTC" : "");
    }
    fputs("</svg>\n", fp);
}

void svg_age(FILE *fp, long long age, long long max_age)
{
    const int w = 160, h = 10;
    long long full = max_age > 0 ? 2 * max_age : 1;
    int x = (int)((age < 0 ? 0 : age > full ? full : age) * w / full);
    const char *cls = max_age > 0 && 2 * age <= max_age ? "age-ok"
                      : age <= max_age                  ? "age-warn"
                                                        : "age-bad";

    fprintf(fp,
            "<svg class=\"gauge\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" role=\"img\"><title>%lld s of max_age %lld s</title>"
            "<rect class=\"age-bg\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/>"
            "<rect class=\"%s\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/>"
            "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#1f2328\"/></svg>",
            w, h, w, h, age, max_age, w, h, cls, x < 2 ? 2 : x, h, w / 2, w / 2, h);
}

static const char *const svg_kind_class[STATS_NKINDS] = {"k-valid", "k-unknown", "k-disabled",
                                                         "k-tempfail"};

void svg_answers(FILE *fp, const struct stats_minute *m, size_t n)
{
    const int top = 10, plot_h = 150, h = top + plot_h + 22;
    size_t bins = (n + SVG_BIN - 1) / SVG_BIN;
    uint64_t max = 1;
    int any = 0;
    int step = bins > 0 ? SVG_PLOT_W * 1000 / (int)bins : 0; /* thousandths of a pixel */
    char a[16];

    /* per bin: the average per known minute of each kind */
    for (size_t b = 0; b < bins; b++) {
        uint64_t sum[STATS_NKINDS] = {0}, known = 0;
        for (size_t i = b * SVG_BIN; i < n && i < (b + 1) * SVG_BIN; i++)
            if (m[i].known) {
                known++;
                for (size_t k = 0; k < STATS_NKINDS; k++)
                    sum[k] += m[i].n[k];
            }
        for (size_t k = 0; k < STATS_NKINDS && known > 0; k++)
            max = sum[k] / known > max ? sum[k] / known : max;
    }
    fprintf(fp,
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"ans-t\">"
            "<title id=\"ans-t\">Answers per minute by kind over the last %zu minutes "
            "(%d-minute averages); grey: no data</title>\n",
            SVG_W, h, SVG_W, h, n, SVG_BIN);
    fprintf(fp,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d0d7de\"/>"
            "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">%" PRIu64 "/min </text>"
            "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">0 </text>\n",
            SVG_LEFT, top + plot_h, SVG_W - 8, top + plot_h, SVG_LEFT - 4, top + 4, max,
            SVG_LEFT - 4, top + plot_h);
    /* grey where nothing is known (one rect per run of bins); hour labels every 3 hours */
    for (size_t b = 0, run = 0; b <= bins; b++) {
        int known = b == bins;
        for (size_t i = b * SVG_BIN; i < n && i < (b + 1) * SVG_BIN; i++)
            known |= m[i].known;
        if (!known) {
            run++;
            continue;
        }
        if (run > 0)
            fprintf(fp, "<rect class=\"nodata\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
                    SVG_LEFT + (int)(b - run) * step / 1000, top,
                    ((int)b * step - (int)(b - run) * step + 999) / 1000, plot_h);
        run = 0;
    }
    fputc('\n', fp);
    for (size_t i = 0; i < n; i++)
        any |= m[i].known;
    if (!any)
        fprintf(fp,
                "<text x=\"%d\" y=\"%d\" class=\"ax\">no answers counted yet: lookupd counts "
                "them per minute from its start </text>\n",
                SVG_LEFT + 8, top + plot_h / 2);
    for (size_t i = 0; i < n; i++)
        if (m[i].minute % 180 == 0) {
            int x = SVG_LEFT + (int)(i * (size_t)SVG_PLOT_W / n);
            svg_time(a, sizeof(a), m[i].minute * 60, SVG_HHMM);
            fprintf(fp,
                    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eaeef2\"/>"
                    "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">%s </text>\n",
                    x, top, x, top + plot_h, x, h - 6, a);
        }
    for (size_t k = 0; k < STATS_NKINDS; k++) {
        fprintf(fp, "<polyline class=\"%s\" points=\"", svg_kind_class[k]);
        for (size_t b = 0; b < bins; b++) {
            uint64_t sum = 0, known = 0, avg;
            for (size_t i = b * SVG_BIN; i < n && i < (b + 1) * SVG_BIN; i++)
                if (m[i].known) {
                    known++;
                    sum += m[i].n[k];
                }
            avg = known > 0 ? sum / known : 0;
            fprintf(fp, "%s%d,%d", b > 0 ? " " : "", SVG_LEFT + (int)b * step / 1000 + step / 2000,
                    top + plot_h - (int)((uint64_t)plot_h * avg / max));
        }
        fputs("\"/>\n", fp);
    }
    fputs("</svg>\n", fp);
}
