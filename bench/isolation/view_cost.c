/* What per-job isolation costs in WebKitGTK: N jobs that each load a small
 * page, either in one reused view whose website data is cleared between jobs
 * (what enconvert-render does) or in a new ephemeral view per job (a fresh
 * website data store, hence a new web process, every time).
 *
 *   view_cost URL MODE [JOBS]   MODE: reuse | fresh
 * Prints one line: mode, jobs, mean wall ms per job, CPU s per job of this
 * process and of the WebKit processes that have exited (a reused view's
 * live web process is not counted: the reuse figure is a lower bound). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <webkit2/webkit2.h>

static GMainLoop *loop;

static void on_load_changed(WebKitWebView *view, WebKitLoadEvent event, gpointer data)
{
    (void) view;
    (void) data;
    if (event == WEBKIT_LOAD_FINISHED)
        g_main_loop_quit(loop);
}

static void load(WebKitWebView *view, const char *url)
{
    webkit_web_view_load_uri(view, url);
    g_main_loop_run(loop);
}

static void on_cleared(GObject *source, GAsyncResult *result, gpointer data)
{
    (void) data;
    webkit_website_data_manager_clear_finish(WEBKIT_WEBSITE_DATA_MANAGER(source), result, NULL);
    g_main_loop_quit(loop);
}

static GtkWidget *new_view(WebKitWebContext *context, gboolean ephemeral, WebKitWebView **view)
{
    GtkWidget *window = gtk_offscreen_window_new();
    *view = WEBKIT_WEB_VIEW(g_object_new(WEBKIT_TYPE_WEB_VIEW, "web-context", context,
                                         "is-ephemeral", ephemeral, NULL));
    gtk_container_add(GTK_CONTAINER(window), GTK_WIDGET(*view));
    gtk_widget_show_all(window);
    g_signal_connect(*view, "load-changed", G_CALLBACK(on_load_changed), NULL);
    return window;
}

static double cpu_seconds(void)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec +
           children.ru_stime.tv_sec +
           (self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec +
            children.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[2], "reuse") != 0 && strcmp(argv[2], "fresh") != 0)) {
        fprintf(stderr, "usage: view_cost URL reuse|fresh [JOBS]\n");
        return 2;
    }
    gtk_init(&argc, &argv);
    const char *url = argv[1];
    const gboolean fresh = strcmp(argv[2], "fresh") == 0;
    const int jobs = argc > 3 ? atoi(argv[3]) : 20;
    loop = g_main_loop_new(NULL, FALSE);
    WebKitWebsiteDataManager *data = webkit_website_data_manager_new_ephemeral();
    WebKitWebContext *context = webkit_web_context_new_with_website_data_manager(data);
    WebKitWebView *view = NULL;
    GtkWidget *window = new_view(context, fresh, &view);
    load(view, url); /* warm-up: processes started, not counted */

    const gint64 start = g_get_monotonic_time();
    const double cpu_start = cpu_seconds();
    for (int i = 0; i < jobs; i++) {
        if (fresh) {
            gtk_widget_destroy(window);
            window = new_view(context, TRUE, &view);
        } else {
            load(view, "about:blank");
            webkit_website_data_manager_clear(webkit_web_view_get_website_data_manager(view),
                                              WEBKIT_WEBSITE_DATA_ALL, 0, NULL, on_cleared, NULL);
            g_main_loop_run(loop);
        }
        load(view, url);
    }
    const double wall_ms = (g_get_monotonic_time() - start) / 1000.0 / jobs;
    gtk_widget_destroy(window);
    /* Let the web processes of destroyed views exit so their CPU is counted. */
    for (int i = 0; i < 50; i++)
        g_main_context_iteration(NULL, FALSE), g_usleep(20000);
    printf("%s jobs=%d wall_ms_per_job=%.0f cpu_s_per_job=%.3f\n", argv[2], jobs, wall_ms,
           (cpu_seconds() - cpu_start) / jobs);
    return 0;
}
