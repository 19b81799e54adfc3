// bench_shim.cc - the C++ half of the C shim over Google Benchmark.
//
// Each C benchmark becomes a registered lambda that hands a wrapped
// benchmark::State to the C function.  Results are caught by a reporter that
// prints nothing and converts each benchmark::BenchmarkReporter::Run into the
// flat C struct of bench_shim.h.  See bench_shim.h for the contracts.

#include "harness/bench_shim.h"

#include <benchmark/benchmark.h>

#include <sstream>
#include <string>
#include <vector>

struct hl_bench_state {
    benchmark::State *gb;
};

extern "C" int hl_bench_register(const char *name, hl_bench_fn fn, void *user, int64_t iterations)
{
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        name, [fn, user](benchmark::State &gb) {
            hl_bench_state st{&gb};
            fn(&st, user);
        });
    if (b == nullptr)
        return -1;
    // Real time is the figure: a workload's own threads work while the
    // caller waits for them.  CPU time is the whole process's, so those
    // threads count (Google Benchmark's default is the calling thread's).
    b->Unit(benchmark::kNanosecond)->UseRealTime()->MeasureProcessCPUTime();
    if (iterations > 0)
        b->Iterations(iterations);
    return 0;
}

extern "C" size_t hl_bench_keep_running_batch(hl_bench_state *st, size_t max_batch)
{
    benchmark::State &gb = *st->gb;
    int64_t remaining = gb.max_iterations - gb.iterations();
    if (gb.error_occurred() || max_batch == 0) {
        // Let Google Benchmark finish the run cleanly.
        while (gb.KeepRunningBatch(1)) {
        }
        return 0;
    }
    // The first call starts the timer even when nothing remains to do.
    int64_t n = remaining < (int64_t)max_batch ? remaining : (int64_t)max_batch;
    if (n <= 0) {
        gb.KeepRunningBatch(1);  // returns false and stops the timer
        return 0;
    }
    return gb.KeepRunningBatch(n) ? (size_t)n : 0;
}

extern "C" int64_t hl_bench_max_iterations(const hl_bench_state *st)
{
    return st->gb->max_iterations;
}

extern "C" void hl_bench_pause(hl_bench_state *st) { st->gb->PauseTiming(); }
extern "C" void hl_bench_resume(hl_bench_state *st) { st->gb->ResumeTiming(); }

extern "C" void hl_bench_counter(hl_bench_state *st, const char *name, double value,
                                 unsigned flags)
{
    int gbflags = benchmark::Counter::kDefaults;
    if (flags & HL_COUNTER_RATE)
        gbflags |= benchmark::Counter::kIsRate;
    if (flags & HL_COUNTER_AVG_THREADS)
        gbflags |= benchmark::Counter::kAvgThreads;
    if (flags & HL_COUNTER_AVG_ITERATIONS)
        gbflags |= benchmark::Counter::kAvgIterations;
    st->gb->counters[name] = benchmark::Counter(value, (benchmark::Counter::Flags)gbflags);
}

extern "C" void hl_bench_items_processed(hl_bench_state *st, int64_t items)
{
    st->gb->SetItemsProcessed(items);
}

extern "C" void hl_bench_label(hl_bench_state *st, const char *label) { st->gb->SetLabel(label); }

extern "C" void hl_bench_skip_with_error(hl_bench_state *st, const char *message)
{
    st->gb->SkipWithError(message);
}

namespace {

// A reporter that prints nothing and forwards each run to C.
class CReporter : public benchmark::BenchmarkReporter {
  public:
    CReporter(hl_bench_context_fn on_context, hl_bench_report_fn on_report, void *user)
        : on_context_(on_context), on_report_(on_report), user_(user)
    {
    }

    bool ReportContext(const Context &context) override
    {
        if (on_context_ == nullptr)
            return true;
        const benchmark::CPUInfo &cpu = context.cpu_info;
        std::ostringstream caches;
        caches << "[";
        for (size_t i = 0; i < cpu.caches.size(); i++) {
            const auto &c = cpu.caches[i];
            caches << (i ? "," : "") << "{\"type\":\"" << c.type << "\",\"level\":" << c.level
                   << ",\"size\":" << c.size << ",\"num_sharing\":" << c.num_sharing << "}";
        }
        caches << "]";
        std::string caches_text = caches.str();
        hl_bench_context c{};
        c.host_name = context.sys_info.name.c_str();
        c.executable = Context::executable_name ? Context::executable_name : "";
        c.num_cpus = cpu.num_cpus;
        c.mhz_per_cpu = cpu.cycles_per_second / 1.0e6;
        c.cpu_scaling_enabled = cpu.scaling == benchmark::CPUInfo::ENABLED;
#ifdef NDEBUG
        c.library_build_type = "release";
#else
        c.library_build_type = "debug";
#endif
        c.caches_json = caches_text.c_str();
        on_context_(&c, user_);
        return true;
    }

    void ReportRuns(const std::vector<Run> &runs) override
    {
        for (const Run &run : runs)
            ReportOne(run);
    }

  private:
    // Google Benchmark marks a process-CPU benchmark's name with
    // "/process_time"; every heaplab benchmark is one, so the marker is
    // dropped and names stay what results and baselines already call them.
    static std::string WithoutProcessTime(std::string name)
    {
        static const std::string marker = "/process_time";
        size_t at = name.find(marker);
        if (at != std::string::npos)
            name.erase(at, marker.size());
        return name;
    }

    void ReportOne(const Run &run)
    {
        std::string name = WithoutProcessTime(run.benchmark_name());
        std::string run_name = WithoutProcessTime(run.run_name.str());
        std::vector<std::string> keys;
        std::vector<const char *> names;
        std::vector<double> values;
        for (const auto &kv : run.counters) {
            keys.push_back(kv.first);
            values.push_back(kv.second.value);
        }
        for (const std::string &k : keys)
            names.push_back(k.c_str());
        hl_bench_report r{};
        r.name = name.c_str();
        r.run_name = run_name.c_str();
        r.is_aggregate = run.run_type == Run::RT_Aggregate;
        r.aggregate_name = run.aggregate_name.c_str();
        r.aggregate_is_percentage = run.aggregate_unit == benchmark::kPercentage;
        r.repetitions = run.repetitions;
        r.repetition_index = r.is_aggregate ? -1 : run.repetition_index;
        r.threads = run.threads;
        r.iterations = run.iterations;
        // A percentage aggregate (cv) is a ratio, not a time per iteration.
        r.real_time_ns = r.aggregate_is_percentage ? run.real_accumulated_time
                                                   : run.GetAdjustedRealTime();
        r.cpu_time_ns = r.aggregate_is_percentage ? run.cpu_accumulated_time
                                                  : run.GetAdjustedCPUTime();
        r.label = run.report_label.c_str();
        r.error = run.error_occurred ? run.error_message.c_str() : nullptr;
        r.counter_count = names.size();
        r.counter_names = names.data();
        r.counter_values = values.data();
        on_report_(&r, user_);
    }

    hl_bench_context_fn on_context_;
    hl_bench_report_fn on_report_;
    void *user_;
};

}  // namespace

extern "C" int hl_bench_run_all(int argc, char **argv, hl_bench_context_fn on_context,
                                hl_bench_report_fn on_report, void *user)
{
    benchmark::Initialize(&argc, argv);
    if (argc > 1)
        return -1;
    CReporter reporter(on_context, on_report, user);
    size_t n = benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return (int)n;
}
