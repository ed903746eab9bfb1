#include "render_child/callback_guard.h"

#include <glib.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace enconvert::render_child {
namespace {

// What a callback's user data says, recorded before it ran.
struct Record {
    int label = 0;
};

struct Seen {
    std::vector<int> labels;
    std::vector<std::string> whats;
};
Seen seen;

struct RecordingSite {
    static int locate(void* data) { return static_cast<Record*>(data)->label; }
    static void threw(int label, const char* what) {
        seen.labels.push_back(label);
        seen.whats.emplace_back(what);
    }
};

struct ThrowingSite {
    static int locate(void*) { return 0; }
    static void threw(int, const char*) { throw std::runtime_error("the report failed too"); }
};

int source_runs = 0;

gboolean throwing_source(gpointer) {
    ++source_runs;
    throw std::runtime_error("a source threw");
}

gboolean quit_loop(gpointer loop) {
    g_main_loop_quit(static_cast<GMainLoop*>(loop));
    return G_SOURCE_REMOVE;
}

void throwing_each(gpointer element, gpointer) {
    if (*static_cast<int*>(element) == 2) throw 42;  // not a std::exception
}

void frees_then_throws(gpointer, gpointer data) {
    delete static_cast<Record*>(data);
    throw std::runtime_error("after freeing its data");
}

gboolean returns_true(gpointer) {
    return TRUE;
}

// A "decide" callback: FALSE would let the default (allowing) handler run.
gboolean decides_then_throws(int* decision, gpointer) {
    *decision = 1;
    throw std::runtime_error("while deciding");
}

gboolean decides(int* decision, gpointer) {
    *decision = 1;
    return FALSE;
}

// Refuses what the callback was deciding; its answer is the callback's.
gboolean refuse(int* decision, gpointer) {
    *decision = -1;
    return TRUE;
}

class CallbackGuard : public ::testing::Test {
  protected:
    void SetUp() override {
        seen = {};
        source_runs = 0;
    }
};

TEST_F(CallbackGuard, AThrowingSourceIsReportedOnceAndRemovedAndTheLoopGoesOn) {
    std::unique_ptr<GMainLoop, decltype(&g_main_loop_unref)> loop(g_main_loop_new(nullptr, FALSE),
                                                                  &g_main_loop_unref);
    Record record{7};
    g_idle_add(&Guarded<&throwing_source, RecordingSite>::call, &record);
    // Runs after the throwing source, which is removed (a zero return):
    // run again, it would be reported twice.
    g_timeout_add(50, &quit_loop, loop.get());
    g_main_loop_run(loop.get());

    EXPECT_EQ(source_runs, 1);
    ASSERT_EQ(seen.labels, std::vector<int>{7});
    EXPECT_EQ(seen.whats.at(0), "a source threw");
}

TEST_F(CallbackGuard, AVoidCallbackCalledFromGLibCodeReportsWhatEvenANonStandardThrow) {
    int elements[] = {1, 2, 3};
    GList* list = nullptr;
    for (int& e : elements) list = g_list_append(list, &e);
    Record record{3};
    g_list_foreach(list, &Guarded<&throwing_each, RecordingSite>::call, &record);
    g_list_free(list);

    ASSERT_EQ(seen.labels, std::vector<int>{3});
    EXPECT_EQ(seen.whats.at(0), "an exception of an unknown type");
}

TEST_F(CallbackGuard, TheSiteIsLocatedBeforeTheCallbackFreesItsData) {
    auto* record = new Record{11};
    int element = 0;
    GList* list = g_list_append(nullptr, &element);
    g_list_foreach(list, &Guarded<&frees_then_throws, RecordingSite>::call, record);
    g_list_free(list);

    EXPECT_EQ(seen.labels, std::vector<int>{11});
}

TEST_F(CallbackGuard, AReportThatThrowsItselfIsSwallowed) {
    Record record;
    EXPECT_EQ((Guarded<&throwing_source, ThrowingSite>::call(&record)), FALSE);
    EXPECT_EQ(source_runs, 1);
}

TEST_F(CallbackGuard, ACallbackThatDoesNotThrowAnswersAsItsOwn) {
    Record record;
    EXPECT_EQ((Guarded<&returns_true, RecordingSite>::call(&record)), TRUE);
    EXPECT_TRUE(seen.labels.empty());
}

TEST_F(CallbackGuard, AFallbackRefusesAndAnswersForACallbackThatThrew) {
    Record record{5};
    int decision = 0;
    EXPECT_EQ((Guarded<&decides_then_throws, RecordingSite, &refuse>::call(&decision, &record)),
              TRUE);
    EXPECT_EQ(decision, -1);
    EXPECT_EQ(seen.labels, std::vector<int>{5});
}

TEST_F(CallbackGuard, AFallbackIsLeftAloneWhenTheCallbackAnswers) {
    Record record;
    int decision = 0;
    EXPECT_EQ((Guarded<&decides, RecordingSite, &refuse>::call(&decision, &record)), FALSE);
    EXPECT_EQ(decision, 1);
    EXPECT_TRUE(seen.labels.empty());
}

}  // namespace
}  // namespace enconvert::render_child
