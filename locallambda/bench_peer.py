# The no-JVM peer of `make bench` for one table format, kept running (library imported) so only the job is timed:
#   bench_peer.py DELTA|ICEBERG WORKDIR PORT   connects to 127.0.0.1:PORT (the sandbox gives a command no stdin),
#   reads one JSON request a line, {"input": csv, "table": name, "seed": bool}, runs the job (read the CSV with pyarrow; seed: create the table; else MERGE/upsert on `date`;
#   then count rows and distinct keys) and answers `peer-result: {"seconds", "rows", "keys"}` (or "error").
# DELTA: delta-rs (deltalake) tables under WORKDIR/delta/<table>. ICEBERG: pyiceberg with a SQL (sqlite) catalog
# and its warehouse in WORKDIR/iceberg. Run inside locallambda/lambda-sandbox.sh by bench.py, on the local disk
# (the sandbox's /tmp): the JVM runs write to the local S3 server instead.
import datetime
import json
import os
import socket
import sys
import time
import traceback

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

TYPES = {"date": pa.date32(), "precipitation": pa.float64(), "temp_max": pa.float64(), "temp_min": pa.float64(),
         "wind": pa.float64(), "weather": pa.string()}


def read(path):
    t = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=TYPES))
    now = datetime.datetime.now(datetime.timezone.utc)
    return t.append_column("ingested_at", pa.array([now] * t.num_rows, pa.timestamp("us", tz="UTC")))


def delta(workdir):
    from deltalake import DeltaTable, write_deltalake

    def job(t, table, seed):
        uri = os.path.join(workdir, "delta", table)
        if seed:
            write_deltalake(uri, t, mode="overwrite")
        else:
            (DeltaTable(uri).merge(t, predicate="t.date = s.date", source_alias="s", target_alias="t")
             .when_matched_update_all().when_not_matched_insert_all().execute())
        return DeltaTable(uri).to_pyarrow_dataset().to_table(columns=["date"])["date"]
    return job


def iceberg(workdir):
    from pyiceberg.catalog.sql import SqlCatalog

    os.makedirs(os.path.join(workdir, "iceberg"), exist_ok=True)
    catalog = SqlCatalog("bench", uri=f"sqlite:///{workdir}/iceberg/catalog.db",
                         warehouse=f"file://{workdir}/iceberg")
    catalog.create_namespace_if_not_exists("bench")

    def job(t, table, seed):
        ident = f"bench.{table}"
        if seed:
            if catalog.table_exists(ident):
                catalog.drop_table(ident)
            catalog.create_table(ident, schema=t.schema).append(t)
        else:
            catalog.load_table(ident).upsert(t, join_cols=["date"])
        return catalog.load_table(ident).scan(selected_fields=("date",)).to_arrow()["date"]
    return job


def main():
    fmt, workdir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    job = {"DELTA": delta, "ICEBERG": iceberg}[fmt](workdir)
    conn = socket.create_connection(("127.0.0.1", port))
    stream = conn.makefile("rw")
    stream.write("peer-ready\n")
    stream.flush()
    for line in stream:
        req = json.loads(line)
        t0 = time.monotonic()
        try:
            keys = job(read(req["input"]), req["table"], req.get("seed", False))
            out = {"seconds": round(time.monotonic() - t0, 3), "rows": len(keys),
                   "keys": pc.count_distinct(keys).as_py()}
        except Exception:
            out = {"error": traceback.format_exc()[-3000:]}
        stream.write("peer-result: " + json.dumps(out) + "\n")
        stream.flush()


if __name__ == "__main__":
    main()
