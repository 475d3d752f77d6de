//! Store benchmarks (issue 9): filter -> SQL translation, role resolution, and the SQLite
//! store on a temporary file with the production settings (WAL, synchronous=FULL, the
//! embedded migrations) through `Db`. Run with `cargo bench -p directory --bench store`;
//! figures are recorded in BENCHMARKS.md. Timings are reported, never asserted.

use chrono::Utc;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use directory::connections::{self, Idp};
use directory::roles::{self, RoleMapping};
use directory::{groups, lifecycle, query, users, Db};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicU64 = AtomicU64::new(0);

fn user_body(n: u64) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("user{n}@example.com"),
        "name": { "givenName": "Given", "familyName": format!("Family{n}") },
        "emails": [{ "primary": true, "value": format!("user{n}@example.com"), "type": "work" }],
        "displayName": format!("Given Family{n}"),
        "externalId": format!("ext-{n}"),
        "active": true
    })
}

fn next_body() -> Value {
    user_body(1_000_000_000 + SEQ.fetch_add(1, Ordering::Relaxed))
}

fn pure(c: &mut Criterion) {
    let simple = scim::filter::parse(r#"userName eq "ada@example.com""#).unwrap();
    let complex = scim::filter::parse(
        r#"emails[type eq "work" and value co "@example.com"] and (active eq true or not (title pr)) and meta.lastModified gt "2024-01-01T00:00:00Z""#,
    )
    .unwrap();
    query::user_filter_sql(&simple).expect("simple filter translates");
    query::user_filter_sql(&complex).expect("complex filter translates");
    let mut g = c.benchmark_group("filter_to_sql");
    g.bench_function("userName_eq", |b| {
        b.iter(|| query::user_filter_sql(black_box(&simple)).unwrap())
    });
    g.bench_function("complex_value_path", |b| {
        b.iter(|| query::user_filter_sql(black_box(&complex)).unwrap())
    });
    g.finish();

    // 50 mappings over 50 groups; the user is in 20 groups.
    let mappings: Vec<RoleMapping> = (0..50)
        .map(|i| {
            RoleMapping::group(
                format!("group-{i:04}-6f1c2d3e-aaaa-bbbb"),
                format!("role{}", i % 7),
            )
        })
        .collect();
    let hit_last: HashSet<String> = (30..50)
        .map(|i| format!("group-{i:04}-6f1c2d3e-aaaa-bbbb"))
        .collect();
    let miss: HashSet<String> = (100..120)
        .map(|i| format!("group-{i:04}-6f1c2d3e-aaaa-bbbb"))
        .collect();
    let mut g = c.benchmark_group("roles_resolve_50x20");
    g.bench_function("first_match_at_30", |b| {
        b.iter(|| {
            roles::resolve(
                black_box(&mappings),
                roles::Subject {
                    groups: black_box(&hit_last),
                    resource: &serde_json::Value::Null,
                },
                "member",
            )
        })
    });
    g.bench_function("no_match_default", |b| {
        b.iter(|| {
            roles::resolve(
                black_box(&mappings),
                roles::Subject {
                    groups: black_box(&miss),
                    resource: &serde_json::Value::Null,
                },
                "member",
            )
        })
    });
    g.finish();
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: Db,
    conn: String,
    big: String,
    empty: String,
    spare: Vec<String>,
    rt: tokio::runtime::Runtime,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("bench.db")).unwrap();
    let now = Utc::now();
    let conn = db
        .write_blocking(move |c| Ok(connections::create(c, "bench", Idp::Okta, false, now)?.id))
        .unwrap();
    // 10,000 members for the big group plus 200 spare users to add in the bench.
    let mut ids: Vec<String> = Vec::new();
    for chunk in (0..10_200u64).collect::<Vec<_>>().chunks(500) {
        let chunk = chunk.to_vec();
        let cid = conn.clone();
        let mut got = db
            .write_blocking(move |c| {
                chunk
                    .iter()
                    .map(|n| {
                        Ok(users::create(
                            c,
                            &cid,
                            &scim::schema::UserResource::parse(&user_body(*n)).unwrap(),
                            now,
                        )?
                        .id)
                    })
                    .collect::<directory::Result<Vec<_>>>()
            })
            .unwrap();
        ids.append(&mut got);
    }
    let spare = ids.split_off(10_000);
    let cid = conn.clone();
    let (big, empty) = db
        .write_blocking(move |c| {
            let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
            let (big, _) = groups::create(
                c,
                &cid,
                &scim::schema::GroupResource::parse(
                    &json!({ "displayName": "Everyone", "members": members }),
                )
                .unwrap(),
                now,
            )?;
            let (empty, _) = groups::create(
                c,
                &cid,
                &scim::schema::GroupResource::parse(&json!({ "displayName": "Nobody" })).unwrap(),
                now,
            )?;
            Ok((big.id, empty.id))
        })
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    Fixture {
        _dir: dir,
        db,
        conn,
        big,
        empty,
        spare,
        rt,
    }
}

fn member_patch(op: &str, uid: &str) -> scim::patch::PatchRequest {
    let body = if op == "add" {
        json!({ "schemas": [scim::urn::PATCH_OP], "Operations": [{ "op": "add", "path": "members", "value": [{ "value": uid }] }] })
    } else {
        json!({ "schemas": [scim::urn::PATCH_OP], "Operations": [{ "op": "remove", "path": format!("members[value eq \"{uid}\"]") }] })
    };
    scim::patch::parse_patch(&body).unwrap()
}

fn store(c: &mut Criterion) {
    let f = fixture();

    // users::create through the writer: one create per commit (one fsync each), 500 in one
    // job (one transaction), and 64 concurrent single-create jobs grouped by the writer.
    let mut g = c.benchmark_group("users_create");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("single_job_per_commit", |b| {
        b.iter(|| {
            let cid = f.conn.clone();
            let body = next_body();
            f.db.write_blocking(move |c| {
                users::create(
                    c,
                    &cid,
                    &scim::schema::UserResource::parse(&body).unwrap(),
                    Utc::now(),
                )
            })
            .unwrap()
        })
    });
    g.throughput(criterion::Throughput::Elements(500));
    g.bench_function("batch_500_in_one_job", |b| {
        b.iter_batched(
            || (0..500).map(|_| next_body()).collect::<Vec<_>>(),
            |bodies| {
                let cid = f.conn.clone();
                f.db.write_blocking(move |c| {
                    for body in &bodies {
                        users::create(
                            c,
                            &cid,
                            &scim::schema::UserResource::parse(body).unwrap(),
                            Utc::now(),
                        )?;
                    }
                    Ok(())
                })
                .unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    g.throughput(criterion::Throughput::Elements(64));
    g.bench_function("64_concurrent_jobs_group_commit", |b| {
        b.iter(|| {
            f.rt.block_on(async {
                let handles: Vec<_> = (0..64)
                    .map(|_| {
                        let db = f.db.clone();
                        let cid = f.conn.clone();
                        let body = next_body();
                        tokio::spawn(async move {
                            db.write(move |c| {
                                users::create(
                                    c,
                                    &cid,
                                    &scim::schema::UserResource::parse(&body).unwrap(),
                                    Utc::now(),
                                )
                            })
                            .await
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap().unwrap();
                }
            })
        })
    });
    g.finish();

    // One member added by PATCH (lifecycle::patch_group, with its feed event and role
    // recompute): timed inside the transaction (the work that depends on group size) and
    // end to end through the writer including COMMIT. The member is removed again, untimed.
    let mut g = c.benchmark_group("group_add_one_member");
    g.sample_size(30).measurement_time(Duration::from_secs(6));
    for (label, gid) in [
        ("empty_group", f.empty.clone()),
        ("group_of_10000", f.big.clone()),
    ] {
        for committed in [false, true] {
            let name = format!(
                "{label}/{}",
                if committed { "with_commit" } else { "in_txn" }
            );
            let gid = gid.clone();
            let mut k = 0usize;
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let uid = f.spare[k % f.spare.len()].clone();
                        k += 1;
                        let (cid, gid2, uid2) = (f.conn.clone(), gid.clone(), uid.clone());
                        let t0 = Instant::now();
                        let inside =
                            f.db.write_blocking(move |c| {
                                let t = Instant::now();
                                let (_, d) = lifecycle::patch_group(
                                    c,
                                    &cid,
                                    &gid2,
                                    member_patch("add", &uid2),
                                    None,
                                    "bench",
                                    Utc::now(),
                                )?;
                                assert_eq!(d.added.len(), 1);
                                Ok(t.elapsed())
                            })
                            .unwrap();
                        total += if committed { t0.elapsed() } else { inside };
                        let (cid, gid2) = (f.conn.clone(), gid.clone());
                        f.db.write_blocking(move |c| {
                            lifecycle::patch_group(
                                c,
                                &cid,
                                &gid2,
                                member_patch("remove", &uid),
                                None,
                                "bench",
                                Utc::now(),
                            )?;
                            Ok(())
                        })
                        .unwrap();
                    }
                    total
                })
            });
        }
    }
    g.finish();

    // GET /Groups/{id} at 10,000 members, as the SCIM handler builds it: the record, the
    // member rows when included, and the JSON body.
    let mut g = c.benchmark_group("get_group_10000");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    for include in [false, true] {
        let name = if include {
            "members_included"
        } else {
            "members_excluded"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let (cid, gid) = (f.conn.clone(), f.big.clone());
                f.rt.block_on(f.db.read(move |c| {
                    let grp = groups::get_live(c, &cid, &gid)?;
                    let members = if include {
                        Some(groups::members(c, &cid, &gid)?)
                    } else {
                        None
                    };
                    let body = grp.to_scim(
                        "http://127.0.0.1/scim/v2/x/Groups/id",
                        "http://127.0.0.1/scim/v2/x",
                        members.as_deref(),
                    );
                    Ok(serde_json::to_vec(&body)?.len())
                }))
                .unwrap()
            })
        });
    }
    g.finish();
}

/// A page of 100 users at depth: page 1 and page 1,000 of 100,000 users, by cursor (RFC 9865,
/// a keyset seek past the previous page's last rowid) and by index (startIndex, OFFSET).
/// Both include the totalResults count, which is the same at every depth.
fn pages(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("pages.db")).unwrap();
    let now = Utc::now();
    let conn = db
        .write_blocking(move |c| Ok(connections::create(c, "pages", Idp::Okta, false, now)?.id))
        .unwrap();
    for chunk in (0..100_000u64).collect::<Vec<_>>().chunks(2_000) {
        let (chunk, cid) = (chunk.to_vec(), conn.clone());
        db.write_blocking(move |c| {
            for n in &chunk {
                users::create(
                    c,
                    &cid,
                    &scim::schema::UserResource::parse(&user_body(*n)).unwrap(),
                    now,
                )?;
            }
            Ok(())
        })
        .unwrap();
    }
    let q = scim::list::ListQuery::from_params(&[], 1_000).unwrap();
    let mut g = c.benchmark_group("users_page_of_100_at_100000");
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    for page in [1u64, 1_000] {
        // Where the cursor of page `page` points: after the last user of the page before.
        let (cid, skip) = (conn.clone(), (page - 1) * 100);
        let after: Option<i64> = db
            .read_blocking(move |c| {
                Ok(c.query_row(
                    "SELECT rowid FROM users WHERE connection_id = ?1 ORDER BY rowid LIMIT 1 OFFSET ?2",
                    rusqlite::params![cid, skip as i64 - 1],
                    |r| r.get(0),
                )
                .ok())
            })
            .unwrap()
            .filter(|_| page > 1);
        let (cid, q1) = (conn.clone(), q.clone());
        g.bench_function(format!("cursor/page_{page}"), |b| {
            b.iter(|| {
                let p = db
                    .read_blocking(|c| users::list_after(c, &cid, &q1, after, 100))
                    .unwrap();
                assert_eq!(p.rows.len(), 100);
                black_box(p.total)
            })
        });
        let (cid, q2) = (
            conn.clone(),
            scim::list::ListQuery {
                start_index: skip + 1,
                ..q.clone()
            },
        );
        g.bench_function(format!("index/page_{page}"), |b| {
            b.iter(|| {
                let (total, rows) = db.read_blocking(|c| users::list(c, &cid, &q2)).unwrap();
                assert_eq!(rows.len(), 100);
                black_box(total)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, pure, store);
// First, so it runs when the store fixture cannot be built (its 10,000-member group is over
// today's members-per-request limit).
criterion_group!(paging, pages);
criterion_main!(paging, benches);
