//! The scenarios themselves: joiners, movers and leavers, renames, retries and Entra cycles.

use super::*;

impl Sim {
    pub(super) async fn jml_round(
        &mut self,
        round: usize,
        population: usize,
    ) -> Result<(), SimError> {
        let joiners = (population / 20).max(1);
        let movers = (population / 20).max(1);
        let updaters = (population / 50).max(1);
        let leavers = (population / 50).max(1);
        let group_names: Vec<String> = self.state.groups.keys().cloned().collect();

        // Joiners: created, then added to their groups one PATCH per group, as an IdP does for
        // an incremental assignment.
        let joined = self.create_users(joiners).await;
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for u in &joined {
            for g in self.draw_groups(&group_names) {
                wanted.entry(g).or_default().push(u.clone());
            }
        }
        self.add_memberships(wanted).await;

        // Pick disjoint movers, updaters and leavers from the active population.
        let mut pool = self.active_users();
        pool.retain(|u| !joined.contains(u));
        pool.shuffle(&mut self.rng);
        let mut take = |n: usize| -> Vec<String> { pool.drain(..n.min(pool.len())).collect() };
        let moving = take(movers);
        let updating = take(updaters);
        let leaving = take(leavers);

        if group_names.len() >= 2 {
            self.move_users(&moving, &group_names).await;
        }
        self.update_users(&updating, round).await;
        self.deactivate_users(&leaving).await;
        Ok(())
    }

    pub(super) async fn move_users(&mut self, users: &[String], group_names: &[String]) {
        let d = self.client.dialect();
        let plans = self.plan_moves(users, group_names);
        if d.runs_in_cycles() {
            return self.move_users_per_group(plans).await;
        }
        self.move_users_one_by_one(plans).await;
    }

    /// For each mover: their first group (left) and a group they are not in (joined).
    pub(super) fn plan_moves(
        &mut self,
        users: &[String],
        group_names: &[String],
    ) -> Vec<(String, String, Option<String>, String)> {
        let mut plans = Vec::new();
        for u in users {
            let Some(su) = self.state.users.get(u) else {
                continue;
            };
            let from = su.groups.iter().next().cloned();
            let candidates: Vec<&String> = group_names
                .iter()
                .filter(|g| !su.groups.contains(*g))
                .collect();
            let Some(to) = candidates.choose(&mut self.rng).map(|s| (*s).clone()) else {
                continue;
            };
            plans.push((u.clone(), su.id.clone(), from, to));
        }
        plans
    }

    /// Okta pushes each mover's change as it happens: remove from the old group, then add to
    /// the new one.
    pub(super) async fn move_users_one_by_one(
        &mut self,
        plans: Vec<(String, String, Option<String>, String)>,
    ) {
        let d = self.client.dialect();
        let mut jobs = Vec::new();
        for (u, uid, from, to) in &plans {
            let client = self.client.clone();
            let from = from
                .as_ref()
                .and_then(|f| self.state.groups.get(f).map(|g| (f.clone(), g.id.clone())));
            let to_id = self
                .state
                .groups
                .get(to)
                .map(|g| g.id.clone())
                .unwrap_or_default();
            let (u, uid, to) = (u.clone(), uid.clone(), to.clone());
            jobs.push(async move {
                let mut removed = false;
                if let Some((fname, fid)) = from {
                    send_ok(
                        client.clone(),
                        format!("remove {u} from {fname}"),
                        d.remove_members(&fid, &fname, std::slice::from_ref(&uid)),
                    )
                    .await?;
                    removed = true;
                }
                let member = MemberRef {
                    id: uid,
                    user_name: u.clone(),
                };
                send_ok(
                    client,
                    format!("add {u} to {to}"),
                    d.add_members(&to_id, &to, &[member]),
                )
                .await?;
                Ok::<bool, SimError>(removed)
            });
        }
        let results = bounded(&self.permits, jobs).await;
        let mut moved = 0;
        for ((u, _, from, to), r) in plans.into_iter().zip(results) {
            match r {
                Ok(removed) => {
                    if let Some(su) = self.state.users.get_mut(&u) {
                        if let (true, Some(f)) = (removed, from) {
                            su.groups.remove(&f);
                        }
                        su.groups.insert(to);
                        moved += 1;
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        self.tally(|c| c.users_moved += moved);
    }

    /// Entra's cycle evaluates groups, not people: every group that lost members since the
    /// last cycle gets one Remove PATCH listing them, then every group that gained members
    /// one Add PATCH (chunked like any membership PATCH).
    pub(super) async fn move_users_per_group(
        &mut self,
        plans: Vec<(String, String, Option<String>, String)>,
    ) {
        let d = self.client.dialect();
        let mut leaving: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut joining: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (u, uid, from, to) in &plans {
            if let Some(f) = from {
                leaving
                    .entry(f.clone())
                    .or_default()
                    .push((u.clone(), uid.clone()));
            }
            joining
                .entry(to.clone())
                .or_default()
                .push((u.clone(), uid.clone()));
        }
        let mut left: BTreeSet<(String, String)> = BTreeSet::new();
        let mut joined: BTreeSet<(String, String)> = BTreeSet::new();
        for (removing, batches) in [(true, leaving), (false, joining)] {
            let mut jobs = Vec::new();
            let mut meta = Vec::new();
            for (group, members) in batches {
                let Some(gid) = self.state.groups.get(&group).map(|g| g.id.clone()) else {
                    continue;
                };
                for chunk in members.chunks(MEMBERS_PER_PATCH) {
                    let req = if removing {
                        let ids: Vec<String> = chunk.iter().map(|(_, id)| id.clone()).collect();
                        d.remove_members(&gid, &group, &ids)
                    } else {
                        let refs: Vec<MemberRef> = chunk
                            .iter()
                            .map(|(u, id)| MemberRef {
                                id: id.clone(),
                                user_name: u.clone(),
                            })
                            .collect();
                        d.add_members(&gid, &group, &refs)
                    };
                    let verb = if removing { "remove" } else { "add" };
                    jobs.push(send_ok(
                        self.client.clone(),
                        format!("{verb} {} members of {group}", chunk.len()),
                        req,
                    ));
                    meta.push((group.clone(), chunk.to_vec()));
                }
            }
            for ((group, members), r) in meta.into_iter().zip(bounded(&self.permits, jobs).await) {
                match r {
                    Ok(_) => {
                        for (u, _) in members {
                            if removing {
                                left.insert((u, group.clone()));
                            } else {
                                joined.insert((u, group.clone()));
                            }
                        }
                    }
                    Err(e) => self.state.fail(e.to_string()),
                }
            }
        }
        let mut moved = 0;
        for (u, _, from, to) in plans {
            let Some(su) = self.state.users.get_mut(&u) else {
                continue;
            };
            let mut changed = false;
            if let Some(f) = from {
                if left.contains(&(u.clone(), f.clone())) {
                    su.groups.remove(&f);
                    changed = true;
                }
            }
            if joined.contains(&(u.clone(), to.clone())) {
                su.groups.insert(to);
                changed = true;
            }
            if changed {
                moved += 1;
            }
        }
        self.tally(|c| c.users_moved += moved);
    }

    pub(super) async fn update_users(&mut self, users: &[String], round: usize) {
        let d = self.client.dialect();
        let mut jobs = Vec::new();
        for u in users {
            let Some(su) = self.state.users.get(u) else {
                continue;
            };
            let (client, id, u) = (self.client.clone(), su.id.clone(), u.clone());
            let given = GIVEN[round % GIVEN.len()].to_string();
            jobs.push(async move {
                // Okta reads the user first and PUTs the whole object back.
                let current = if matches!(d, Dialect::Okta | Dialect::Google) {
                    send_ok(
                        client.clone(),
                        format!("get {u}"),
                        ScimRequest::get(format!("/Users/{id}")),
                    )
                    .await?
                    .json()
                    .clone()
                } else {
                    Value::Null
                };
                send_ok(
                    client,
                    format!("update {u}"),
                    d.update_name(&id, &current, &given, "Renamed"),
                )
                .await
            });
        }
        let mut updated = 0;
        for r in bounded(&self.permits, jobs).await {
            match r {
                Ok(_) => updated += 1,
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        self.tally(|c| c.users_updated += updated);
    }

    pub(super) async fn deactivate_users(&mut self, users: &[String]) {
        let d = self.client.dialect();
        let jobs = users
            .iter()
            .filter_map(|u| self.state.users.get(u).map(|su| (u.clone(), su.id.clone())))
            .map(|(u, id)| {
                send_ok(
                    self.client.clone(),
                    format!("deactivate {u}"),
                    d.deactivate_user(&id),
                )
            })
            .collect::<Vec<_>>();
        let results = bounded(&self.permits, jobs).await;
        let mut disabled = 0;
        for (u, r) in users.iter().zip(results) {
            match r {
                Ok(_) => {
                    if let Some(su) = self.state.users.get_mut(u) {
                        // Neither Okta nor Entra touches memberships on deactivation.
                        su.active = false;
                        disabled += 1;
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        self.tally(|c| c.users_disabled += disabled);
    }

    /// Hard-deletes users. A 404 means the target already removed the user: the IdP's goal is
    /// reached, so it is "already gone", not a failure. (Microsoft documents the DELETE 30 days
    /// after the disable but not how it treats a 404 answer; any other answer is a failure.)
    pub(super) async fn delete_users(&mut self, users: &[String]) {
        let d = self.client.dialect();
        let targets: Vec<(String, String)> = users
            .iter()
            .filter_map(|u| self.state.users.get(u).map(|su| (u.clone(), su.id.clone())))
            .collect();
        let jobs = targets
            .iter()
            .map(|(_, id)| {
                let (client, req) = (self.client.clone(), d.delete_user(id));
                async move { client.send(&req).await }
            })
            .collect();
        let results = bounded(&self.permits, jobs).await;
        let (mut deleted, mut gone) = (0, 0);
        for ((u, id), r) in targets.into_iter().zip(results) {
            match r {
                Ok(resp) if resp.is_success() || resp.status == 404 => {
                    if resp.status == 404 {
                        gone += 1;
                    } else {
                        deleted += 1;
                    }
                    self.state.users.remove(&u);
                    self.state.deleted.insert(u, id);
                }
                Ok(resp) => self
                    .state
                    .fail(unexpected(&format!("delete {u}"), &resp).to_string()),
                Err(e) => self.state.fail(format!("delete {u}: {e}")),
            }
        }
        self.tally(|c| {
            c.users_deleted += deleted;
            c.already_gone += gone;
        });
    }

    /// Entra's soft delete then hard delete: cycle 1 provisions everyone; cycle 2 disables the
    /// leavers (PATCH active false / "False"); meanwhile some leavers are removed from the
    /// target out of band; the first cycle at least `delete_after` later DELETEs every leaver.
    pub(super) async fn leaver_delete_later(
        &mut self,
        opts: &SimulateOptions,
    ) -> Result<(), SimError> {
        self.begin_cycle();
        self.initial_sync(opts.users, groups_for(opts)).await?;
        self.end_cycle();

        let disable_at = opts.cycle_interval;
        self.clock.advance_to(disable_at).await;
        self.begin_cycle();
        let mut pool = self.active_users();
        pool.shuffle(&mut self.rng);
        pool.truncate(opts.leavers);
        pool.sort();
        self.deactivate_users(&pool).await;
        self.end_cycle();
        let leavers: Vec<String> = pool
            .into_iter()
            .filter(|u| self.state.users.get(u).is_some_and(|su| !su.active))
            .collect();

        // Out of band: the app's own admin (or its retention purge) removes some leavers
        // before Entra gets to them. Not the IdP's traffic, so not in the summary's counts.
        let outsider = ScimClient::new(self.client.base(), &opts.token, Dialect::Generic)?
            .with_retry(opts.retry);
        let mut removed = Vec::new();
        for u in leavers.iter().take(opts.deleted_out_of_band) {
            let id = self.state.users[u].id.clone();
            let r = outsider
                .send(&ScimRequest::delete(format!("/Users/{id}")))
                .await?;
            if !r.is_success() {
                return Err(unexpected(&format!("out-of-band delete of {u}"), &r));
            }
            removed.push(u.clone());
        }

        // The first cycle boundary at or after disable + delete_after.
        let due = disable_at + opts.delete_after;
        let interval = opts.cycle_interval.as_secs().max(1);
        let delete_at = Duration::from_secs(due.as_secs().div_ceil(interval) * interval);
        self.clock.advance_to(delete_at).await;
        self.begin_cycle();
        self.delete_users(&leavers).await;
        self.end_cycle();

        self.state.observations.insert(
            "leaver_delete_later".into(),
            json!({
                "disabled": leavers,
                "deleted_out_of_band": removed,
                "disabled_at_secs": disable_at.as_secs(),
                "deleted_at_secs": delete_at.as_secs(),
            }),
        );
        Ok(())
    }

    pub(super) async fn rename_all(&mut self) -> Result<(), SimError> {
        let d = self.client.dialect();
        let renames: Vec<(String, String, String)> = self
            .state
            .groups
            .iter()
            .map(|(n, g)| (n.clone(), format!("{n} renamed"), g.id.clone()))
            .collect();
        let jobs = renames
            .iter()
            .map(|(old, new, id)| {
                send_ok(
                    self.client.clone(),
                    format!("rename {old}"),
                    d.rename_group(id, new),
                )
            })
            .collect();
        let results = bounded(&self.permits, jobs).await;
        for ((old, new, _), r) in renames.into_iter().zip(results) {
            match r {
                Ok(_) => {
                    if let Some(g) = self.state.groups.remove(&old) {
                        self.state.groups.insert(new.clone(), g);
                    }
                    for su in self.state.users.values_mut() {
                        if su.groups.remove(&old) {
                            su.groups.insert(new.clone());
                        }
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        Ok(())
    }

    pub(super) async fn leaver(&mut self) -> Result<(), SimError> {
        let users = self.create_users(1).await;
        let Some(u) = users.first().cloned() else {
            return Err(SimError::Unsupported(format!(
                "could not create the leaver: {:?}",
                self.state.failures
            )));
        };
        if self.client.dialect().provisions_groups() {
            let groups = self.create_groups(1).await;
            if let Some(g) = groups.first() {
                self.add_memberships(BTreeMap::from([(g.clone(), vec![u.clone()])]))
                    .await;
            }
        }
        self.deactivate_users(std::slice::from_ref(&u)).await;
        let su = &self.state.users[&u];
        self.state.observations.insert(
            "leaver".into(),
            json!({ "id": su.id, "userName": u, "active": su.active }),
        );
        Ok(())
    }

    pub(super) async fn retry_create(&mut self, repeats: usize) -> Result<(), SimError> {
        let p = self.new_person();
        let req = self.client.dialect().create_user(&p);
        let jobs = (0..repeats)
            .map(|_| {
                let (client, req) = (self.client.clone(), req.clone());
                async move { client.send(&req).await }
            })
            .collect();
        // Every copy in flight at once, regardless of --concurrency: that is the race.
        let wide = Arc::new(Semaphore::new(repeats));
        let results = bounded(&wide, jobs).await;
        let statuses: Vec<u16> = results
            .iter()
            .map(|r| r.as_ref().map(|r| r.status).unwrap_or(0))
            .collect();
        let created: Vec<&ScimResponse> = results
            .iter()
            .flatten()
            .filter(|r| r.status == 201)
            .collect();
        let conflicts = statuses.iter().filter(|s| **s == 409).count();
        let ok = created.len() == 1 && conflicts == repeats - 1;
        if let Some(id) = created.first().and_then(|r| r.str_field("id")) {
            self.state.users.insert(
                p.user_name.clone(),
                SimUser {
                    id: id.to_string(),
                    active: true,
                    groups: BTreeSet::new(),
                },
            );
        } else {
            self.state.fail(format!(
                "no 201 among {repeats} identical creates: {statuses:?}"
            ));
        }
        self.state.observations.insert(
            "retry_create".into(),
            json!({ "userName": p.user_name, "statuses": statuses, "created": created.len(),
                    "conflicts": conflicts, "exactly_one_created": ok }),
        );
        Ok(())
    }

    pub(super) async fn group_before_user(&mut self) -> Result<(), SimError> {
        let d = self.client.dialect();
        let groups = self.create_groups(1).await;
        let Some(gname) = groups.first().cloned() else {
            return Err(SimError::Unsupported(format!(
                "could not create the group: {:?}",
                self.state.failures
            )));
        };
        let gid = self.state.groups[&gname].id.clone();
        let p = self.new_person();
        // The IdP's membership PATCH races ahead of the user's POST (Stytch: a transient 404).
        let ghost = MemberRef {
            id: uuid_from(&mut self.rng),
            user_name: p.user_name.clone(),
        };
        let early = self
            .client
            .send(&d.add_members(&gid, &gname, std::slice::from_ref(&ghost)))
            .await?;
        let (uid, _) = match provision_user(self.client.clone(), p.clone()).await {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        self.state.users.insert(
            p.user_name.clone(),
            SimUser {
                id: uid.clone(),
                active: true,
                groups: BTreeSet::new(),
            },
        );
        // Next cycle the IdP retries with the real id.
        self.add_memberships(BTreeMap::from([(gname.clone(), vec![p.user_name.clone()])]))
            .await;
        let after = self
            .client
            .send(&ScimRequest::get(format!("/Groups/{gid}")))
            .await?;
        let ghost_kept = crate::dialect::member_ids(after.json()).contains(&ghost.id);
        self.state.observations.insert(
            "group_before_user".into(),
            json!({
                "missing_member_id": ghost.id,
                "early_patch_status": early.status,
                "early_patch_body": early.body.clone().unwrap_or(Value::String(early.text.chars().take(500).collect())),
                "dangling_member_kept": ghost_kept,
                "user_id": uid,
            }),
        );
        Ok(())
    }
}
