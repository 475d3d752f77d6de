//! The simulated IdP: its state, clock and names, and the requests every scenario sends.

use super::*;

#[derive(Debug, Clone)]
pub(super) struct SimUser {
    pub(super) id: String,
    pub(super) active: bool,
    pub(super) groups: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub(super) struct SimGroup {
    pub(super) id: String,
}

/// What the IdP believes it has pushed so far.
#[derive(Default)]
pub(super) struct SimState {
    pub(super) users: BTreeMap<String, SimUser>,
    pub(super) groups: BTreeMap<String, SimGroup>,
    /// Hard-deleted users: userName -> the id they had.
    pub(super) deleted: BTreeMap<String, String>,
    pub(super) failures: Vec<String>,
    /// Every failed operation, including those past the kept list's cap.
    pub(super) failed_ops: usize,
    pub(super) observations: BTreeMap<String, Value>,
}

impl SimState {
    pub(super) fn expected(&self) -> ExpectedState {
        let mut groups: BTreeMap<String, ExpectedGroup> = self
            .groups
            .keys()
            .map(|g| {
                (
                    g.clone(),
                    ExpectedGroup {
                        members: BTreeSet::new(),
                    },
                )
            })
            .collect();
        let mut users = BTreeMap::new();
        for (name, u) in &self.users {
            for g in &u.groups {
                if let Some(eg) = groups.get_mut(g) {
                    eg.members.insert(name.clone());
                }
            }
            users.insert(
                name.clone(),
                ExpectedUser {
                    active: u.active,
                    groups: u.groups.clone(),
                },
            );
        }
        ExpectedState {
            users,
            groups,
            deleted: self.deleted.keys().cloned().collect(),
        }
    }

    pub(super) fn fail(&mut self, what: String) {
        self.failed_ops += 1;
        // Keep the list readable on a large failing run.
        if self.failures.len() < 200 {
            self.failures.push(what);
        }
    }
}

/// Simulated time: advancing it sleeps the scaled gap for real, or not at all.
pub(super) struct SimClock {
    pub(super) now: Duration,
    pub(super) time_scale: Option<f64>,
}

impl SimClock {
    pub(super) async fn advance_to(&mut self, at: Duration) {
        let gap = at.saturating_sub(self.now);
        if let Some(scale) = self.time_scale {
            // validate_cycles bounds the real wait.
            tokio::time::sleep(Duration::from_secs_f64(gap.as_secs_f64() / scale)).await;
        }
        self.now = self.now.max(at);
    }
}

pub(super) const GIVEN: [&str; 12] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Frances", "Donald",
    "Margaret", "Tim",
];
pub(super) const FAMILY: [&str; 12] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Thompson",
    "Perlman",
    "Torvalds",
    "Allen",
    "Knuth",
    "Hamilton",
    "Berners-Lee",
];
pub(super) const TEAMS: [&str; 12] = [
    "Engineering",
    "Sales",
    "Support",
    "Finance",
    "Design",
    "Legal",
    "Marketing",
    "Security",
    "People",
    "Data",
    "Platform",
    "Operations",
];

pub(super) struct Sim {
    pub(super) client: ScimClient,
    pub(super) permits: Arc<Semaphore>,
    pub(super) rng: StdRng,
    pub(super) seed: u64,
    pub(super) next_user: usize,
    pub(super) next_group: usize,
    pub(super) state: SimState,
    pub(super) clock: SimClock,
    pub(super) cycles: Vec<CycleReport>,
    /// The cycle being played, with the request and failure counts when it began.
    pub(super) open_cycle: Option<(CycleReport, usize, usize)>,
}

/// Runs `jobs` with at most the semaphore's permits in flight, returning results in job order.
pub(super) async fn bounded<T, F>(permits: &Arc<Semaphore>, jobs: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut set = JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, job.await)
        });
    }
    let mut out: Vec<(usize, T)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(r) = joined {
            out.push(r);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

pub(super) fn unexpected(what: &str, r: &ScimResponse) -> SimError {
    SimError::Unexpected {
        what: what.to_string(),
        status: r.status,
        body: r.text.chars().take(300).collect(),
    }
}

/// First resource of a ListResponse, if any.
pub(super) fn first_resource(r: &ScimResponse) -> Option<Value> {
    if r.status != 200 {
        return None;
    }
    r.json()
        .get("Resources")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
}

pub(super) fn id_of(v: &Value) -> Option<String> {
    v.get("id").and_then(Value::as_str).map(str::to_string)
}

/// The IdP's create: look up by userName first where the IdP does, POST when absent, and
/// adopt the existing user on 409 (Okta links an existing account rather than failing).
pub(super) async fn provision_user(
    client: ScimClient,
    p: Person,
) -> Result<(String, Value), SimError> {
    let d = client.dialect();
    if d.looks_up_before_create() {
        let found = client.send(&d.find_user(&p.user_name)).await?;
        if let Some(existing) = first_resource(&found) {
            if let Some(id) = id_of(&existing) {
                return Ok((id, existing));
            }
        }
    }
    let r = client.send(&d.create_user(&p)).await?;
    if r.status == 409 {
        let found = client.send(&d.find_user(&p.user_name)).await?;
        if let Some(existing) = first_resource(&found) {
            if let Some(id) = id_of(&existing) {
                return Ok((id, existing));
            }
        }
    }
    if !r.is_success() {
        return Err(unexpected(&format!("create user {}", p.user_name), &r));
    }
    let id = r
        .str_field("id")
        .ok_or_else(|| unexpected("create user returned no id", &r))?;
    Ok((id.to_string(), r.json().clone()))
}

pub(super) async fn provision_group(
    client: ScimClient,
    name: String,
    external_id: String,
) -> Result<String, SimError> {
    let d = client.dialect();
    // Okta Group Push and Entra both match by displayName before creating.
    if matches!(d, Dialect::Okta | Dialect::Entra | Dialect::EntraCompliant) {
        let found = client.send(&d.find_group(&name)).await?;
        if let Some(id) = first_resource(&found).as_ref().and_then(id_of) {
            return Ok(id);
        }
    }
    let r = client.send(&d.create_group(&name, &external_id)).await?;
    if !r.is_success() {
        return Err(unexpected(&format!("create group {name}"), &r));
    }
    r.str_field("id")
        .map(str::to_string)
        .ok_or_else(|| unexpected("create group returned no id", &r))
}

pub(super) async fn send_ok(
    client: ScimClient,
    what: String,
    req: ScimRequest,
) -> Result<ScimResponse, SimError> {
    let r = client.send(&req).await?;
    if r.is_success() {
        Ok(r)
    } else {
        Err(unexpected(&what, &r))
    }
}

impl Sim {
    /// Opens a cycle at the clock's current simulated time.
    pub(super) fn begin_cycle(&mut self) {
        let report = CycleReport {
            cycle: self.cycles.len() + 1,
            at_secs: self.clock.now.as_secs(),
            ..CycleReport::default()
        };
        self.open_cycle = Some((report, self.client.records().len(), self.state.failed_ops));
    }

    /// Closes the open cycle, counting the requests and failures it caused.
    pub(super) fn end_cycle(&mut self) {
        if let Some((mut report, requests_before, failures_before)) = self.open_cycle.take() {
            report.requests = self.client.records().len() - requests_before;
            report.failures = self.state.failed_ops - failures_before;
            self.cycles.push(report);
        }
    }

    /// Adds to the open cycle's counts; a no-op for IdPs that push instead of cycling.
    pub(super) fn tally(&mut self, f: impl FnOnce(&mut CycleReport)) {
        if let Some((report, _, _)) = self.open_cycle.as_mut() {
            f(report);
        }
    }

    pub(super) fn new_person(&mut self) -> Person {
        self.next_user += 1;
        let g = GIVEN[self.rng.gen_range(0..GIVEN.len())];
        let f = FAMILY[self.rng.gen_range(0..FAMILY.len())];
        let user_name = format!("sim{}.u{:05}@example.com", self.seed, self.next_user);
        Person {
            user_name: user_name.clone(),
            given_name: g.to_string(),
            family_name: f.to_string(),
            email: user_name,
            external_id: uuid_from(&mut self.rng),
        }
    }

    pub(super) fn new_group_name(&mut self) -> String {
        self.next_group += 1;
        let team = TEAMS[(self.next_group - 1) % TEAMS.len()];
        format!("sim{} {} {:03}", self.seed, team, self.next_group)
    }

    pub(super) async fn create_users(&mut self, count: usize) -> Vec<String> {
        let people: Vec<Person> = (0..count).map(|_| self.new_person()).collect();
        let jobs = people
            .iter()
            .map(|p| provision_user(self.client.clone(), p.clone()))
            .collect();
        let results = bounded(&self.permits, jobs).await;
        let mut made = Vec::new();
        for (p, r) in people.into_iter().zip(results) {
            match r {
                Ok((id, _)) => {
                    self.state.users.insert(
                        p.user_name.clone(),
                        SimUser {
                            id,
                            active: true,
                            groups: BTreeSet::new(),
                        },
                    );
                    made.push(p.user_name);
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        let n = made.len();
        self.tally(|c| c.users_created += n);
        made
    }

    pub(super) async fn create_groups(&mut self, count: usize) -> Vec<String> {
        let names: Vec<String> = (0..count).map(|_| self.new_group_name()).collect();
        let jobs = names
            .iter()
            .map(|n| provision_group(self.client.clone(), n.clone(), uuid_from(&mut self.rng)))
            .collect::<Vec<_>>();
        let results = bounded(&self.permits, jobs).await;
        let mut made = Vec::new();
        for (n, r) in names.into_iter().zip(results) {
            match r {
                Ok(id) => {
                    self.state.groups.insert(n.clone(), SimGroup { id });
                    made.push(n);
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
        let n = made.len();
        self.tally(|c| c.groups_created += n);
        made
    }

    /// Draws 1-5 distinct groups for a user, biased by Zipf-like weights so a few groups are
    /// large and most are small, as in real directories.
    pub(super) fn draw_groups(&mut self, groups: &[String]) -> BTreeSet<String> {
        let mut picked = BTreeSet::new();
        if groups.is_empty() {
            return picked;
        }
        let k = self.rng.gen_range(1..=5usize).min(groups.len());
        let weights: Vec<f64> = (0..groups.len())
            .map(|i| 1.0 / ((i + 1) as f64).powf(1.07))
            .collect();
        let Ok(dist) = WeightedIndex::new(&weights) else {
            return picked;
        };
        let mut tries = 0;
        while picked.len() < k && tries < 100 {
            picked.insert(groups[dist.sample(&mut self.rng)].clone());
            tries += 1;
        }
        picked
    }

    /// Sends membership additions, one group at a time in chunks, and records what landed.
    pub(super) async fn add_memberships(&mut self, wanted: BTreeMap<String, Vec<String>>) {
        let d = self.client.dialect();
        let mut jobs = Vec::new();
        let mut meta = Vec::new();
        for (group, members) in wanted {
            let Some(g) = self.state.groups.get(&group) else {
                continue;
            };
            for chunk in members.chunks(MEMBERS_PER_PATCH) {
                let refs: Vec<MemberRef> = chunk
                    .iter()
                    .filter_map(|u| {
                        self.state.users.get(u).map(|su| MemberRef {
                            id: su.id.clone(),
                            user_name: u.clone(),
                        })
                    })
                    .collect();
                let req = d.add_members(&g.id, &group, &refs);
                jobs.push(send_ok(
                    self.client.clone(),
                    format!("add {} members to {group}", refs.len()),
                    req,
                ));
                meta.push((group.clone(), chunk.to_vec()));
            }
        }
        for ((group, users), r) in meta.into_iter().zip(bounded(&self.permits, jobs).await) {
            match r {
                Ok(_) => {
                    for u in users {
                        if let Some(su) = self.state.users.get_mut(&u) {
                            su.groups.insert(group.clone());
                        }
                    }
                }
                Err(e) => self.state.fail(e.to_string()),
            }
        }
    }

    pub(super) async fn initial_sync(
        &mut self,
        users: usize,
        groups: usize,
    ) -> Result<(), SimError> {
        // Both Okta and Entra provision the users first, then groups (Entra creates them empty),
        // then memberships by PATCH.
        let user_names = self.create_users(users).await;
        if user_names.is_empty() && users > 0 {
            return Err(SimError::Unsupported(format!(
                "no user could be created; first failure: {}",
                self.state.failures.first().cloned().unwrap_or_default()
            )));
        }
        let group_names = self.create_groups(groups).await;
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for u in &user_names {
            for g in self.draw_groups(&group_names) {
                wanted.entry(g).or_default().push(u.clone());
            }
        }
        self.add_memberships(wanted).await;
        Ok(())
    }

    pub(super) fn active_users(&self) -> Vec<String> {
        self.state
            .users
            .iter()
            .filter(|(_, u)| u.active)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

pub(super) fn uuid_from(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}
