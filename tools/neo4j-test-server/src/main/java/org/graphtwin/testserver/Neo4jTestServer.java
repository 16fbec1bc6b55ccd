package org.graphtwin.testserver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Starts Neo4j Community embedded for tests and development: Bolt on 127.0.0.1:PORT,
 * authentication off, data under a given directory.
 *
 * <p>Prints {@code NEO4J READY bolt://127.0.0.1:PORT} on stdout once Bolt accepts
 * connections and Cypher has answered a first query, then runs until SIGTERM/SIGINT
 * (a shutdown hook stops the database cleanly, so data survives a restart) or, with
 * {@code --exit-on-stdin-eof}, until its parent closes stdin (so a test run that is
 * killed does not leave a JVM behind).
 *
 * <p>Usage: {@code --port N --data DIR [--pagecache SIZE] [--exit-on-stdin-eof]}
 */
public final class Neo4jTestServer {

    private static final String USAGE =
            "usage: Neo4jTestServer --port N --data DIR [--pagecache SIZE] [--exit-on-stdin-eof]\n"
                    + "  SIZE is bytes with an optional k/m/g suffix (default 32m)";

    private Neo4jTestServer() {}

    /** Command line options; parsing errors are reported with the usage text. */
    private record Options(int port, Path dataDir, long pageCacheBytes, boolean exitOnStdinEof) {

        static Options parse(String[] args) {
            Integer port = null;
            Path data = null;
            long pageCache = parseSize("32m");
            boolean exitOnEof = false;
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--port" -> port = Integer.parseInt(value(args, ++i, arg));
                    case "--data" -> data = Path.of(value(args, ++i, arg)).toAbsolutePath();
                    case "--pagecache" -> pageCache = parseSize(value(args, ++i, arg));
                    case "--exit-on-stdin-eof" -> exitOnEof = true;
                    default -> throw new IllegalArgumentException("unknown argument: " + arg);
                }
            }
            if (port == null || data == null) {
                throw new IllegalArgumentException("--port and --data are required");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("--port must be 1..65535, got " + port);
            }
            return new Options(port, data, pageCache, exitOnEof);
        }

        private static String value(String[] args, int i, String flag) {
            if (i >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return args[i];
        }

        private static long parseSize(String text) {
            String t = text.trim().toLowerCase();
            long unit = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                case 'g' -> 1L << 30;
                default -> 1L;
            };
            String digits = unit == 1L ? t : t.substring(0, t.length() - 1);
            return Long.parseLong(digits) * unit;
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        long started = System.nanoTime();
        Files.createDirectories(options.dataDir());

        DatabaseManagementService service = build(options);
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean shutDown = new AtomicBoolean(false);
        Runnable shutdown = () -> {
            if (shutDown.compareAndSet(false, true)) {
                System.out.println("NEO4J STOPPING");
                System.out.flush();
                service.shutdown();
                System.out.println("NEO4J STOPPED");
                System.out.flush();
            }
            stopped.countDown();
        };
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "neo4j-test-server-shutdown"));

        // The first Cypher query initialises the parser, planner and runtime; doing it
        // here means the ready line marks a server that answers at full speed.
        GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        db.executeTransactionally("RETURN 1");

        long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
        System.out.printf("NEO4J READY bolt://127.0.0.1:%d (started in %d ms, data %s)%n",
                options.port(), millis, options.dataDir());
        System.out.flush();

        if (options.exitOnStdinEof()) {
            Thread watcher = new Thread(() -> {
                waitForEof(System.in);
                System.exit(0); // runs the shutdown hook
            }, "neo4j-test-server-stdin-watcher");
            watcher.setDaemon(true);
            watcher.start();
        }
        stopped.await();
    }

    private static DatabaseManagementService build(Options options) {
        return new DatabaseManagementServiceBuilder(options.dataDir())
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address,
                        new SocketAddress("127.0.0.1", options.port()))
                .setConfig(BoltConnector.advertised_address,
                        new SocketAddress("127.0.0.1", options.port()))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, options.pageCacheBytes())
                // Small, quick to create and to throw away: tests make many databases.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.preallocate_store_files, false)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "1 files")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, 16L << 20)
                .setConfig(GraphDatabaseSettings.pagecache_warmup_enabled, false)
                .setConfig(GraphDatabaseSettings.filewatcher_enabled, false)
                // SIGTERM should not wait long for open client transactions.
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout,
                        Duration.ofSeconds(2))
                // Bolt otherwise waits 5 s for its thread pool and 5 s for its
                // connections on shutdown, which makes every restart test slow.
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time,
                        Duration.ofMillis(200))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time,
                        Duration.ofMillis(200))
                .build();
    }

    private static void waitForEof(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // Input is ignored; only its end matters.
            }
        } catch (IOException e) {
            // A broken pipe means the parent is gone, which is what we wait for.
        }
    }
}
