/*
 * Delta Lake LogStore for S3 with several writers: Delta's S3SingleDriverLogStore (safe for one JVM: it checks that
 * the commit file N.json does not exist, then writes it) with that check-then-write made atomic across JVMs by a
 * DynamoDB lock on the table's _delta_log (DynamoDbTableLocks). S3 is strongly consistent, so under the lock the
 * existence check sees every other writer's commit; a writer that finds N.json taken gets the
 * FileAlreadyExistsException that Delta's optimistic transaction expects, checks for logical conflicts and commits
 * as N+1 (or reports a Concurrent*Exception). The lock is held only around the commit file's write.
 *
 * Configured by the Lambda handler (docker/python/handler/config.py):
 *   spark.delta.logStore.s3a.impl / .s3.impl  com.sparklambda.coordination.DynamoDbLockingS3LogStore
 *   spark.hadoop.sparklambda.lock.table / .region / .endpoint  (else SPARK_LAMBDA_LOCK_TABLE, AWS_REGION,
 *   AWS_ENDPOINT_URL_DYNAMODB from the environment)
 * Delta's own io.delta.storage.S3DynamoDBLogStore does the same job with a log of commit entries; it is not served by
 * the registries this project builds from (see DynamoDbTableLocks).
 */
package com.sparklambda.coordination;

import com.amazonaws.services.dynamodbv2.LockItem;
import io.delta.storage.S3SingleDriverLogStore;
import java.io.IOException;
import java.util.Iterator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

public class DynamoDbLockingS3LogStore extends S3SingleDriverLogStore {
    /** How long a writer waits for another writer's commit before giving up (milliseconds). */
    static final long COMMIT_LOCK_TIMEOUT_MS = 120_000;

    public DynamoDbLockingS3LogStore(Configuration hadoopConf) {
        super(hadoopConf);
    }

    @Override
    public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration hadoopConf)
            throws IOException {
        if (Boolean.TRUE.equals(overwrite)) {  // checkpoints and other files Delta may replace: no race to guard
            super.write(path, actions, overwrite, hadoopConf);
            return;
        }
        FileSystem fs = path.getFileSystem(hadoopConf);
        Path logDir = fs.makeQualified(path).getParent();
        DynamoDbTableLocks locks = DynamoDbTableLocks.from(hadoopConf::get, "sparklambda.lock.table",
            "sparklambda.lock.region", "sparklambda.lock.endpoint");
        LockItem lock = locks.acquire(DynamoDbTableLocks.keyOf("delta", logDir.toString()), COMMIT_LOCK_TIMEOUT_MS);
        try {
            super.write(path, actions, false, hadoopConf);
        } finally {
            locks.release(lock);
        }
    }
}
