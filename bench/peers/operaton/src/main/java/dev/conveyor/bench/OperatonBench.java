package dev.conveyor.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import org.operaton.bpm.engine.ProcessEngine;
import org.operaton.bpm.engine.ProcessEngineConfiguration;
import org.operaton.bpm.engine.RuntimeService;
import org.operaton.bpm.engine.TaskService;
import org.operaton.bpm.engine.task.Task;

/**
 * The Operaton half of the peers bench (bench/peers/bench_peers.py runs it): the engine embedded in
 * this JVM, on PostgreSQL, full history, no job executor. For each number of clients, that many
 * threads start instances of bench.bpmn back to back for a while (a start runs the script task and
 * the gateway and stops at the user task), then complete the user tasks of the instances they
 * started (each instance then ends). Task ids are looked up between the two phases, outside any
 * timing. Prints one JSON object on stdout.
 *
 * Settings, from the environment: BENCH_JDBC_URL, BENCH_JDBC_USER, BENCH_JDBC_PASSWORD,
 * BENCH_CLIENTS ("1,8"), BENCH_SECONDS (per phase), BENCH_WARMUP (instances started and completed
 * before measuring, so the JIT has compiled the hot paths), BENCH_PRELOAD (open tasks to pile up
 * before measuring once more at the largest number of clients; 0: none).
 */
public final class OperatonBench {

    private static final String PROCESS = "approval";
    private static final String ASSIGNEE = "user-1";

    private final RuntimeService runtime;
    private final TaskService tasks;

    private OperatonBench(ProcessEngine engine) {
        this.runtime = engine.getRuntimeService();
        this.tasks = engine.getTaskService();
    }

    public static void main(String[] args) throws Exception {
        String url = env("BENCH_JDBC_URL", "jdbc:postgresql://127.0.0.1:15432/operaton");
        List<Integer> clients = new ArrayList<>();
        for (String part : env("BENCH_CLIENTS", "1,8").split(",")) {
            clients.add(Integer.parseInt(part.trim()));
        }
        double seconds = Double.parseDouble(env("BENCH_SECONDS", "10"));
        int warmup = Integer.parseInt(env("BENCH_WARMUP", "2000"));
        int preload = Integer.parseInt(env("BENCH_PRELOAD", "0"));
        int most = Collections.max(clients);

        ProcessEngine engine = ProcessEngineConfiguration.createStandaloneProcessEngineConfiguration()
                .setJdbcUrl(url)
                .setJdbcDriver("org.postgresql.Driver")
                .setJdbcUsername(env("BENCH_JDBC_USER", "conveyor"))
                .setJdbcPassword(env("BENCH_JDBC_PASSWORD", ""))
                .setJdbcMaxActiveConnections(most + 2)
                .setDatabaseSchemaUpdate(ProcessEngineConfiguration.DB_SCHEMA_UPDATE_TRUE)
                .setHistory(ProcessEngineConfiguration.HISTORY_FULL)
                .setJobExecutorActivate(false)
                .buildProcessEngine();
        try {
            engine.getRepositoryService().createDeployment()
                    .addClasspathResource("bench.bpmn")
                    .name("peers")
                    .deploy();
            OperatonBench bench = new OperatonBench(engine);
            bench.warmUp(warmup, most);
            StringBuilder out = new StringBuilder("{\"engine\": \"operaton\", \"clients\": {");
            for (int i = 0; i < clients.size(); i++) {
                out.append(i == 0 ? "" : ", ").append('"').append(clients.get(i)).append("\": ");
                out.append(bench.round(clients.get(i), seconds).json());
            }
            out.append('}');
            if (preload > 0) {
                bench.pileUp(preload, most);
                out.append(", \"preloaded_open_tasks\": ").append(preload);
                out.append(", \"after_preload\": ").append(bench.round(most, seconds).json());
            }
            System.out.println(out.append('}'));
        } finally {
            engine.close();
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    private Map<String, Object> variables(int n) {
        Map<String, Object> vars = new HashMap<>();
        vars.put("title", "Deal " + n);
        vars.put("amount", 5000);
        vars.put("assignee", ASSIGNEE);
        return vars;
    }

    private String start(int n) {
        return runtime.startProcessInstanceByKey(PROCESS, "item-" + n, variables(n)).getId();
    }

    /** The open user tasks of these instances, looked up in chunks. */
    private List<String> taskIdsOf(List<String> instanceIds) {
        List<String> found = new ArrayList<>(instanceIds.size());
        for (int from = 0; from < instanceIds.size(); from += 1000) {
            List<String> chunk = instanceIds.subList(from, Math.min(instanceIds.size(), from + 1000));
            for (Task task : tasks.createTaskQuery().processInstanceIdIn(chunk.toArray(new String[0])).list()) {
                found.add(task.getId());
            }
        }
        return found;
    }

    private void warmUp(int count, int clients) throws InterruptedException {
        List<String> started = Collections.synchronizedList(new ArrayList<>());
        drive(clients, 3600, count, n -> started.add(start(n)));
        List<String> open = taskIdsOf(started);
        drive(clients, 3600, open.size(), n -> tasks.complete(open.get(n)));
    }

    private void pileUp(int count, int clients) throws InterruptedException {
        drive(clients, 36000, count, this::start);
    }

    private Round round(int clients, double seconds) throws InterruptedException {
        List<String> started = Collections.synchronizedList(new ArrayList<>());
        Phase starts = drive(clients, seconds, Integer.MAX_VALUE, n -> started.add(start(n)));
        List<String> open = taskIdsOf(started);
        Phase completes = drive(clients, seconds, open.size(), n -> tasks.complete(open.get(n)));
        return new Round(starts, completes);
    }

    /** {@code clients} threads calling {@code op} back to back until {@code seconds} pass or {@code limit} calls were made. */
    private static Phase drive(int clients, double seconds, int limit, IntConsumer op) throws InterruptedException {
        AtomicInteger counter = new AtomicInteger();
        ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
        long began = System.nanoTime();
        long deadline = began + (long) (seconds * 1e9);
        CountDownLatch done = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            Thread client = new Thread(() -> {
                try {
                    while (System.nanoTime() < deadline) {
                        int n = counter.getAndIncrement();
                        if (n >= limit) {
                            return;
                        }
                        long started = System.nanoTime();
                        op.accept(n);
                        latencies.add((System.nanoTime() - started) / 1e6);
                    }
                } finally {
                    done.countDown();
                }
            });
            client.start();
        }
        done.await();
        return new Phase(new ArrayList<>(latencies), (System.nanoTime() - began) / 1e9);
    }

    private record Phase(List<Double> latenciesMs, double seconds) {
        double perSecond() {
            return latenciesMs.size() / seconds;
        }

        /** The same nearest-rank percentile as bench/_infra.py. */
        double percentile(double q) {
            List<Double> ordered = new ArrayList<>(latenciesMs);
            Collections.sort(ordered);
            if (ordered.isEmpty()) {
                return Double.NaN;
            }
            int index = (int) Math.min(ordered.size() - 1, Math.max(0, Math.round(q / 100 * (ordered.size() - 1))));
            return ordered.get(index);
        }
    }

    private record Round(Phase starts, Phase completes) {
        String json() {
            return String.format(Locale.ROOT,
                    "{\"starts\": %d, \"starts_per_s\": %.1f, \"start_p50_ms\": %.2f, \"start_p99_ms\": %.2f,"
                            + " \"completes\": %d, \"completes_per_s\": %.1f, \"complete_p50_ms\": %.2f,"
                            + " \"complete_p99_ms\": %.2f}",
                    starts.latenciesMs().size(), starts.perSecond(), starts.percentile(50), starts.percentile(99),
                    completes.latenciesMs().size(), completes.perSecond(), completes.percentile(50),
                    completes.percentile(99));
        }
    }
}
