/*
 * Table write locks in DynamoDB for concurrent Spark writers on AWS Lambda: one lock per table, held only around a
 * table format's commit step, with a lease that a background heartbeat keeps alive and that expires if the holder
 * dies. The locking itself is AWS Labs' dynamodb-lock-client (pinned in docker/versions.lock); this class only builds
 * it from the function's settings and shares one client per table per JVM.
 *
 * Why this exists: the table formats' own DynamoDB coordination (Delta's io.delta:delta-storage-s3-dynamodb, Hudi's
 * org.apache.hudi:hudi-aws-bundle) is not served by the package registries this project builds from, so it cannot be
 * pinned. The lock table is the one the SparkLambda construct creates (partition key "entityId", shared with
 * Iceberg's DynamoDbLockManager).
 */
package com.sparklambda.coordination;

import com.amazonaws.client.builder.AwsClientBuilder;
import com.amazonaws.services.dynamodbv2.AcquireLockOptions;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDB;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDBClientBuilder;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDBLockClient;
import com.amazonaws.services.dynamodbv2.AmazonDynamoDBLockClientOptions;
import com.amazonaws.services.dynamodbv2.LockItem;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

public final class DynamoDbTableLocks {
    /** The lock table's partition key (String), as the SparkLambda construct creates it. */
    public static final String PARTITION_KEY = "entityId";
    /** A holder that stops heartbeating (died, frozen) loses the lock after this many milliseconds. */
    static final long LEASE_MS = 20_000;
    static final long HEARTBEAT_MS = 5_000;
    static final long POLL_MS = 200;

    private static final ConcurrentHashMap<String, DynamoDbTableLocks> SHARED = new ConcurrentHashMap<>();

    private final String table;
    private final AmazonDynamoDBLockClient client;

    private DynamoDbTableLocks(String table, String region, String endpoint) {
        AmazonDynamoDBClientBuilder builder = AmazonDynamoDBClientBuilder.standard();
        if (endpoint != null && !endpoint.isEmpty()) {
            builder.withEndpointConfiguration(new AwsClientBuilder.EndpointConfiguration(endpoint, region));
        } else if (region != null && !region.isEmpty()) {
            builder.withRegion(region);
        }
        AmazonDynamoDB dynamo = builder.build();
        this.table = table;
        this.client = new AmazonDynamoDBLockClient(
            AmazonDynamoDBLockClientOptions.builder(dynamo, table)
                .withPartitionKeyName(PARTITION_KEY)
                .withTimeUnit(TimeUnit.MILLISECONDS)
                .withLeaseDuration(LEASE_MS)
                .withHeartbeatPeriod(HEARTBEAT_MS)
                .withCreateHeartbeatBackgroundThread(true)
                .build());
    }

    /**
     * The locks of `table`, one client per (table, region, endpoint) and JVM. Settings come from `setting` (a Hadoop
     * or Hudi configuration lookup) under the given keys, else from the environment the SparkLambda construct sets:
     * SPARK_LAMBDA_LOCK_TABLE, AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB (local tests only).
     *
     * @throws IOException when no lock table is configured
     */
    public static DynamoDbTableLocks from(Function<String, String> setting, String tableKey, String regionKey,
                                          String endpointKey) throws IOException {
        String table = firstOf(setting.apply(tableKey), System.getenv("SPARK_LAMBDA_LOCK_TABLE"));
        String region = firstOf(setting.apply(regionKey), System.getenv("AWS_REGION"));
        String endpoint = firstOf(setting.apply(endpointKey), System.getenv("AWS_ENDPOINT_URL_DYNAMODB"));
        if (table == null) {
            throw new IOException("no DynamoDB lock table: set " + tableKey + " or SPARK_LAMBDA_LOCK_TABLE (the "
                + "SparkLambda construct sets it with its default CommitCoordination)");
        }
        String id = table + "|" + region + "|" + endpoint;
        return SHARED.computeIfAbsent(id, k -> new DynamoDbTableLocks(table, region, endpoint));
    }

    private static String firstOf(String a, String b) {
        if (a != null && !a.trim().isEmpty()) {
            return a.trim();
        }
        return b != null && !b.trim().isEmpty() ? b.trim() : null;
    }

    /** A lock key for a table location: the same table under s3:// and s3a:// is one key. */
    public static String keyOf(String kind, String location) {
        String loc = location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
        if (loc.startsWith("s3a://") || loc.startsWith("s3n://")) {
            loc = "s3://" + loc.substring(6);
        }
        return kind + ":" + loc;
    }

    /** The lock on `key`, waiting at most timeoutMs (plus one lease when a dead holder's lease must run out). */
    public Optional<LockItem> tryAcquire(String key, long timeoutMs) throws InterruptedException {
        return client.tryAcquireLock(AcquireLockOptions.builder(key)
            .withTimeUnit(TimeUnit.MILLISECONDS)
            .withRefreshPeriod(POLL_MS)
            .withAdditionalTimeToWaitForLock(timeoutMs)
            .withDeleteLockOnRelease(true)
            .build());
    }

    /** Like tryAcquire, but an IOException that names the table and key when the lock is not granted in time. */
    public LockItem acquire(String key, long timeoutMs) throws IOException {
        try {
            Optional<LockItem> lock = tryAcquire(key, timeoutMs);
            if (!lock.isPresent()) {
                throw new IOException("the commit lock " + key + " in DynamoDB table " + table
                    + " stayed held by another writer for " + timeoutMs + " ms");
            }
            return lock.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the commit lock " + key, e);
        }
    }

    public void release(LockItem lock) {
        if (lock != null) {
            client.releaseLock(lock);
        }
    }
}
