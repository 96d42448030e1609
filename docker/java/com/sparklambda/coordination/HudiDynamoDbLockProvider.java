/*
 * Apache Hudi lock provider for optimistic concurrency control with several writers on S3: a DynamoDB lock per table
 * (DynamoDbTableLocks), which Hudi holds while it resolves conflicts and commits. It reads Hudi's own DynamoDB lock
 * keys, so the settings are the same as for Hudi's DynamoDBBasedLockProvider (org.apache.hudi:hudi-aws-bundle, not
 * served by the registries this project builds from):
 *   hoodie.write.lock.provider           com.sparklambda.coordination.HudiDynamoDbLockProvider
 *   hoodie.write.lock.dynamodb.table / .region / .endpoint_url  (else SPARK_LAMBDA_LOCK_TABLE, AWS_REGION,
 *                                        AWS_ENDPOINT_URL_DYNAMODB from the environment)
 * The lock key is the table's base path (hoodie.base.path), else hoodie.write.lock.dynamodb.partition_key, else the
 * table name. Hudi's LockManager constructs it by reflection with (LockConfiguration, StorageConfiguration).
 */
package com.sparklambda.coordination;

import com.amazonaws.services.dynamodbv2.LockItem;
import java.io.IOException;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.hudi.common.config.LockConfiguration;
import org.apache.hudi.common.lock.LockProvider;
import org.apache.hudi.exception.HoodieLockException;
import org.apache.hudi.storage.StorageConfiguration;

public class HudiDynamoDbLockProvider implements LockProvider<LockItem> {
    private final DynamoDbTableLocks locks;
    private final String key;
    private volatile LockItem held;

    public HudiDynamoDbLockProvider(LockConfiguration lockConfiguration, StorageConfiguration<?> storageConf) {
        Properties props = lockConfiguration.getConfig();
        String base = props.getProperty("hoodie.base.path");
        if (base == null || base.isEmpty()) {
            base = props.getProperty("hoodie.write.lock.dynamodb.partition_key", props.getProperty("hoodie.table.name"));
        }
        if (base == null || base.isEmpty()) {
            throw new HoodieLockException("no lock key: hoodie.base.path, hoodie.write.lock.dynamodb.partition_key and "
                + "hoodie.table.name are all unset");
        }
        this.key = DynamoDbTableLocks.keyOf("hudi", base);
        try {
            this.locks = DynamoDbTableLocks.from(props::getProperty, "hoodie.write.lock.dynamodb.table",
                "hoodie.write.lock.dynamodb.region", "hoodie.write.lock.dynamodb.endpoint_url");
        } catch (IOException e) {
            throw new HoodieLockException(e.getMessage(), e);
        }
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) {
        try {
            Optional<LockItem> lock = locks.tryAcquire(key, unit.toMillis(time));
            held = lock.orElse(null);
            return held != null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HoodieLockException("interrupted while waiting for the lock " + key, e);
        }
    }

    @Override
    public void unlock() {
        LockItem lock = held;
        held = null;
        locks.release(lock);
    }

    @Override
    public LockItem getLock() {
        return held;
    }

    @Override
    public String getCurrentOwnerLockInfo() {
        return key;
    }

    @Override
    public void close() {
        if (held != null) {
            unlock();
        }
    }
}
