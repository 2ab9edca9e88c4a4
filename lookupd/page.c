/*
 * page - the HTML status page; see page.h.
 */
#include "lookupd/page.h"

#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "common/sha256.h"
#include "common/str.h"
#include "lookupd/svg.h"

const struct status_want page_want = {
    .syncs = PAGE_SYNCS, .minutes = PAGE_MINUTES, .domains = 1, .harvest = 1};

/* The page's one stylesheet; the CSP allows it by its hash and nothing else. */
static const char page_style[] =
    "body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
    "margin:0 auto;max-width:760px;padding:16px 20px 40px;color:#1f2328;background:#fff}"
    "h1{font-size:44px;line-height:1.1;margin:8px 0 4px}"
    "h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:3px}"
    ".v-healthy{color:#1a7f37}.v-failed{color:#9a6700}.v-stale,.v-unavailable{color:#cf222e}"
    ".banner{border-left:6px solid;padding:4px 14px 8px;margin:0 0 6px}"
    ".reason{font-size:16px;margin:2px 0}"
    ".facts{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;margin:14px 0}"
    ".fact{background:#f6f8fa;border-radius:6px;padding:6px 10px}"
    ".fact b{display:block;font-size:22px}.fact span{font-size:12px;color:#59636e}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}"
    "dt{color:#59636e}dd{margin:0;word-break:break-all}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eaeef2}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".r-ok{color:#1a7f37}.r-refused{color:#9a6700;font-weight:bold}"
    ".r-failed{color:#cf222e;font-weight:bold}"
    "pre{white-space:pre-wrap;word-break:break-all;background:#fff8f8;border:1px solid #ffcecb;"
    "padding:8px 10px;border-radius:6px;font-size:13px}"
    ".chart{max-width:100%;height:auto;display:block}"
    ".chart .ax{font-size:11px;fill:#59636e}"
    ".chart .ok .dur{fill:#2da44e}.chart .refused .dur{fill:#d4a72c}"
    ".chart .failed .dur{fill:#cf222e}.chart .bad{fill:#ffebe9}.chart .chg{fill:#0969da}.chart "
    ".chg-no{fill:#eac54f}"
    ".chart .nodata{fill:#f6f8fa}.chart polyline{fill:none;stroke-width:2}"
    ".k-valid{stroke:#2da44e;color:#2da44e}.k-unknown{stroke:#bf3989;color:#bf3989}"
    ".k-disabled{stroke:#8c959f;color:#8c959f}.k-tempfail{stroke:#cf222e;color:#cf222e}"
    ".legend span{margin-right:14px;font-weight:bold}"
    ".gauge{vertical-align:middle}.age-bg{fill:#eaeef2}.age-ok{fill:#2da44e}"
    ".age-warn{fill:#d4a72c}.age-bad{fill:#cf222e}"
    ".muted{color:#59636e;font-size:13px}"
    "ul.doms{columns:3;margin:0;padding-left:18px}";

static char page_csp_text[256];
static pthread_once_t page_csp_once = PTHREAD_ONCE_INIT;

/* page_csp_init - the policy, with the stylesheet's SHA-256 in base64 */
static void page_csp_init(void)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char d[SHA256_SIZE];
    char enc[48];
    struct sha256 c;
    size_t o = 0;

    sha256_init(&c);
    sha256_update(&c, page_style, sizeof(page_style) - 1);
    sha256_final(&c, d);
    for (size_t i = 0; i < SHA256_SIZE; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < SHA256_SIZE ? (uint32_t)d[i + 1] << 8 : 0) |
                     (i + 2 < SHA256_SIZE ? d[i + 2] : 0);
        enc[o++] = b64[v >> 18 & 63];
        enc[o++] = b64[v >> 12 & 63];
        enc[o++] = i + 1 < SHA256_SIZE ? b64[v >> 6 & 63] : '=';
        enc[o++] = i + 2 < SHA256_SIZE ? b64[v & 63] : '=';
    }
    enc[o] = '\0';
    snprintf(page_csp_text, sizeof(page_csp_text),
             "default-src 'none'; style-src 'sha256-%s'; base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'none'",
             enc);
}

const char *page_csp(void)
{
    pthread_once(&page_csp_once, page_csp_init);
    return page_csp_text;
}

static const char *page_verdict_class(enum status_verdict v)
{
    static const char *const cls[] = {"v-healthy", "v-failed", "v-stale", "v-unavailable"};

    return cls[v];
}

/* page_fact - one figure in the grid: a big number and what it is */
static void page_fact(FILE *fp, const char *id, uint64_t v, const char *what)
{
    fprintf(fp, "<div class=\"fact\"><b id=\"%s\">%" PRIu64 "</b> <span>%s</span></div>\n", id, v,
            what);
}

static void page_head(FILE *fp, const struct lk_status *s)
{
    fprintf(fp,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"refresh\" content=\"%d\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>rcptdir: %s</title>\n<style>%s</style>\n</head>\n<body>\n",
            PAGE_REFRESH, status_verdict_name(s->verdict), page_style);
}

/* page_verdict - the verdict in large type, why, and the freshness against max_age */
static void page_verdict(FILE *fp, const struct lk_status *s)
{
    const struct store_info *in = &s->info;
    char w[40], age[64], max[64];

    fprintf(fp, "<header class=\"banner %s\">\n<h1 id=\"verdict\">%s</h1>\n<p class=\"reason\">",
            page_verdict_class(s->verdict), status_verdict_name(s->verdict));
    svg_escs(fp, s->reason);
    fputs("</p>\n</header>\n<dl>\n", fp);
    status_age_text(max, sizeof(max), s->max_age);
    if (in->last_success != 0) {
        svg_time(w, sizeof(w), in->last_success, SVG_SECOND_UTC);
        status_age_text(age, sizeof(age), (long long)s->now - (long long)in->last_success);
        fprintf(fp,
                "<dt>Last good sync</dt><dd id=\"last-success\">%s: <b>%s ago</b> (max_age %s) ", w,
                age, max);
        svg_age(fp, (long long)s->now - (long long)in->last_success, s->max_age);
        fputs("</dd>\n", fp);
    } else {
        fprintf(fp, "<dt>Last good sync</dt><dd id=\"last-success\">never (max_age %s)</dd>\n",
                max);
    }
    if (in->last_attempt != 0) {
        svg_time(w, sizeof(w), in->last_attempt, SVG_SECOND_UTC);
        fprintf(fp, "<dt>Last attempt</dt><dd>%s: <span class=\"r-%s\">", w,
                strcmp(in->last_result, "ok") == 0        ? "ok"
                : strcmp(in->last_result, "refused") == 0 ? "refused"
                                                          : "failed");
        svg_escs(fp, in->last_result);
        fputs("</span></dd>\n", fp);
    }
    fprintf(fp,
            "<dt>Last 24 h</dt><dd id=\"day\">%" PRIu64 " syncs ok, <span class=\"%s\">%" PRIu64
            " refused</span>, <span class=\"%s\">%" PRIu64 " failed</span>; applied +%" PRIu64
            " ~%" PRIu64 " -%" PRIu64 " addresses</dd>\n",
            s->day.ok, s->day.refused > 0 ? "r-refused" : "", s->day.refused,
            s->day.failed > 0 ? "r-failed" : "", s->day.failed, s->day.added, s->day.changed,
            s->day.removed);
    fputs("<dt>Source</dt><dd>", fp);
    svg_escs(fp, in->source[0] != '\0' ? in->source : "(none yet)");
    fputs("</dd>\n", fp);
    svg_time(w, sizeof(w), (uint64_t)s->now, SVG_SECOND_UTC);
    fprintf(fp, "<dt>Page</dt><dd>%s, rcptdir-lookupd ", w);
    svg_escs(fp, s->version != NULL ? s->version : "");
    fprintf(fp, ", refreshes every %d s</dd>\n</dl>\n", PAGE_REFRESH);
    fputs("<div class=\"facts\">\n", fp);
    page_fact(fp, "generation", in->generation, "generation");
    page_fact(fp, "addresses", in->addresses, "addresses");
    page_fact(fp, "entries", in->entries, "entries");
    page_fact(fp, "domains", in->domains, "domains");
    page_fact(fp, "invalid", in->invalid, "invalid (skipped)");
    page_fact(fp, "conflicts", in->conflicts, "conflicts");
    page_fact(fp, "unknown-hour", s->answers_hour[STATS_K_UNKNOWN], "unknown answers, last hour");
    page_fact(fp, "tempfail-hour", s->answers_hour[STATS_K_TEMPFAIL],
              "temporary failures, last hour");
    fputs("</div>\n", fp);
}

/* page_syncs - the chart of the last syncs and a table of the newest */
static void page_syncs(FILE *fp, const struct lk_status *s)
{
    char w[40], dur[32];

    fputs("<h2>Last syncs</h2>\n", fp);
    svg_syncs(fp, s->syncs, s->nsyncs);
    fprintf(fp,
            "<p class=\"muted\">Bars: how long each attempt took (red failed, amber refused, on a "
            "tinted column); below, addresses added, changed or removed: blue applied, amber what "
            "a refused sync would have done. Each bar's tooltip "
            "has the details; the table lists the newest %d, <a href=\"/v1/history\">/v1/history"
            "</a> all that are kept.</p>\n",
            PAGE_ROWS);
    fputs(
        "<table id=\"syncs\">\n<tr><th>ended (UTC)</th><th>result</th><th class=\"n\">duration</th>"
        "<th class=\"n\">added</th><th class=\"n\">changed</th><th class=\"n\">removed</th>"
        "<th class=\"n\">generation</th></tr>\n",
        fp);
    for (size_t i = 0; i < s->nsyncs && i < PAGE_ROWS; i++) {
        const struct status_sync *y = &s->syncs[i];
        const char *r = store_hist_result_name(y->result);
        svg_time(w, sizeof(w), y->time, SVG_SECOND);
        if (y->duration_ms < 1000)
            snprintf(dur, sizeof(dur), "%" PRIu64 " ms", y->duration_ms);
        else
            snprintf(dur, sizeof(dur), "%.1f s", (double)y->duration_ms / 1000.0);
        fprintf(fp,
                "<tr><td>%s</td><td class=\"r-%s\">%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td>"
                "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "%s</td></tr>\n",
                w, r, r, dur, y->added, y->changed, y->removed, y->gen_after,
                y->gen_after != y->gen_before ? " (new)" : "");
        if (y->error[0] != '\0') {
            fputs("<tr><td></td><td colspan=\"6\" class=\"muted\">", fp);
            svg_escs(fp, y->error);
            fputs("</td></tr>\n", fp);
        }
    }
    if (s->nsyncs == 0)
        fputs("<tr><td colspan=\"7\">no sync recorded yet</td></tr>\n", fp);
    fputs("</table>\n", fp);
}

/* page_answers - the chart of answers per minute, its legend and the last hour's totals */
static void page_answers(FILE *fp, const struct lk_status *s)
{
    static const char *const label[STATS_NKINDS] = {"valid", "unknown", "disabled",
                                                    "temporary failure"};
    const struct stats_minute *last = NULL;

    fputs("<h2>Answers per minute, last 24 h</h2>\n", fp);
    svg_answers(fp, s->minutes, s->nminutes);
    fputs("<p class=\"legend\">", fp);
    for (size_t k = 0; k < STATS_NKINDS; k++)
        fprintf(fp, "<span class=\"k-%s\">&#9632; %s</span>", stats_kind_name((enum stats_kind)k),
                label[k]);
    fputs("</p>\n<p class=\"muted\" id=\"answers-hour\">Last hour:", fp);
    for (size_t k = 0; k < STATS_NKINDS; k++)
        fprintf(fp, " %s %" PRIu64 "%s", label[k], s->answers_hour[k],
                k + 1 < STATS_NKINDS ? "," : ".");
    for (size_t i = s->nminutes; i > 0; i--)
        if (s->minutes[i - 1].known && (s->minutes[i - 1].n[0] | s->minutes[i - 1].n[1] |
                                        s->minutes[i - 1].n[2] | s->minutes[i - 1].n[3])) {
            last = &s->minutes[i - 1];
            break;
        }
    if (last != NULL)
        fprintf(fp,
                " Lookup time in the last busy minute: median &le; %" PRIu32 " &micro;s, 90%% &le; "
                "%" PRIu32 " &micro;s, 99%% &le; %" PRIu32 " &micro;s.",
                last->p50_us, last->p90_us, last->p99_us);
    fputs("</p>\n", fp);
}

/* page_harvest - the policy service's penalised clients, from /v1/harvest's object */
static void page_harvest(FILE *fp, const struct lk_status *s)
{
    json_t *offenders = json_object_get(s->harvest, "offenders");
    size_t i;
    json_t *o;

    fputs("<h2>Penalised harvesters</h2>\n", fp);
    if (json_array_size(offenders) == 0) {
        fprintf(fp, "<p>None (threshold %lld unknown recipients in %lld s).</p>\n",
                (long long)json_integer_value(json_object_get(s->harvest, "threshold")),
                (long long)json_integer_value(json_object_get(s->harvest, "window")));
        return;
    }
    fputs("<table id=\"harvest\"><tr><th>client</th><th class=\"n\">unknown</th>"
          "<th class=\"n\">penalised for</th></tr>\n",
          fp);
    json_array_foreach(offenders, i, o)
    {
        const char *who = json_string_value(json_object_get(o, "client"));
        long long rem = (long long)json_integer_value(json_object_get(o, "remaining"));
        char left[64] = "over";
        if (rem > 0)
            status_age_text(left, sizeof(left), rem);
        fputs("<tr><td>", fp);
        svg_escs(fp, who != NULL ? who : "?");
        fprintf(fp, "</td><td class=\"n\">%lld</td><td class=\"n\">%s</td></tr>\n",
                (long long)json_integer_value(json_object_get(o, "count")), left);
    }
    fputs("</table>\n", fp);
}

/* page_edges - the edges that follow this hub (shown only when there are any) */
static void page_edges(FILE *fp, const struct lk_status *s)
{
    fputs("<h2>Edges</h2>\n<table id=\"edges\"><tr><th>edge</th><th class=\"n\">generation</th>"
          "<th class=\"n\">lag</th></tr>\n",
          fp);
    for (size_t i = 0; i < s->nedges; i++) {
        char lag[64] = "unknown";
        if (s->edges[i].lag >= 0)
            status_age_text(lag, sizeof(lag), s->edges[i].lag);
        if (s->edges[i].stale)
            str_copy(lag + strlen(lag), ", not seen lately", sizeof(lag) - strlen(lag));
        fputs("<tr><td>", fp);
        svg_escs(fp, s->edges[i].name);
        fprintf(fp, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%s</td></tr>\n",
                s->edges[i].generation, lag);
    }
    fputs("</table>\n", fp);
}

void page_render(FILE *fp, const struct lk_status *s)
{
    page_head(fp, s);
    page_verdict(fp, s);
    if (s->info.last_error[0] != '\0') {
        fputs("<h2>Last sync error</h2>\n<pre id=\"last-error\">", fp);
        svg_escs(fp, s->info.last_error);
        fputs("</pre>\n", fp);
    }
    page_syncs(fp, s);
    page_answers(fp, s);
    if (s->nedges > 0)
        page_edges(fp, s);
    if (s->harvest != NULL)
        page_harvest(fp, s);
    fprintf(fp, "<h2>Managed domains (%" PRIu64 ")</h2>\n<ul class=\"doms\" id=\"managed\">",
            s->info.domains);
    for (size_t i = 0; i < s->ndomains; i++) {
        fputs("<li>", fp);
        svg_escs(fp, s->domains[i]);
        fputs("</li>", fp);
    }
    if (s->info.domains > s->ndomains)
        fprintf(fp, "<li>&hellip; and %" PRIu64 " more</li>", s->info.domains - s->ndomains);
    fputs("</ul>\n<p class=\"muted\">Machine-readable: <a href=\"/v1/status\">/v1/status</a>, "
          "<a href=\"/v1/history\">/v1/history</a>, <a href=\"/metrics\">/metrics</a>.</p>\n"
          "</body></html>\n",
          fp);
}
