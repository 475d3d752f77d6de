//! Listing checks: filters, startIndex/count paging and cursor paging.

use super::*;

impl Runner {
    pub(super) async fn filter(&mut self, resource: &str, attr: &str, value: &str) -> Ex {
        let f = encode_query(&format!("{attr} eq {}", filter_literal(value)));
        self.call(Method::Get, format!("/{resource}?filter={f}"), None)
            .await
    }

    pub(super) async fn filters(&mut self, a: &str, _b: &str) {
        let pa = self.person("a");
        let ex = self.filter("Users", "userName", &pa.user_name).await;
        let got = ids(&ex.resources());
        self.judge(
            "filter.user_name",
            "filter=userName eq finds exactly the user (Okta and Entra match on it)",
            "filter",
            ex.status() == 200 && got == [a.to_string()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );
        let ex = self
            .filter("Users", "userName", &pa.user_name.to_uppercase())
            .await;
        let got = ids(&ex.resources());
        self.judge(
            "filter.user_name_case_insensitive",
            "userName eq is case-insensitive (RFC 7643 caseExact false)",
            "filter",
            ex.status() == 200 && got == [a.to_string()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );
        let ex = self.filter("Users", "externalId", &pa.external_id).await;
        let got = ids(&ex.resources());
        self.judge(
            "filter.external_id",
            "filter=externalId eq finds the user",
            "filter",
            ex.status() == 200 && got == [a.to_string()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );
        let ex = self
            .filter(
                "Users",
                "userName",
                &format!("nobody-{}@example.com", self.tag),
            )
            .await;
        let total = ex.json().get("totalResults").and_then(Value::as_u64);
        self.judge(
            "filter.no_match",
            "A filter matching nothing returns 200 with totalResults 0",
            "filter",
            ex.status() == 200 && total == Some(0) && ex.resources().is_empty(),
            format!("{}, totalResults {}", ex.describe(), total.plain()),
            &ex,
        );
        let ex = self
            .call(
                Method::Get,
                format!("/Users?filter={}", encode_query("userName eq")),
                None,
            )
            .await;
        let st = ex
            .json()
            .get("scimType")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "filter.invalid",
            "A malformed filter is refused with 400 scimType invalidFilter",
            "filter",
            ex.status() == 400 && st.as_deref() == Some("invalidFilter"),
            format!("{}, scimType {}", ex.describe(), st.plain()),
            &ex,
        );
    }

    pub(super) async fn pagination(&mut self, spc: &Value) {
        let all = self.call(Method::Get, "/Users?count=3", None).await;
        let first_ids = ids(&all.resources());
        let p1 = self
            .call(Method::Get, "/Users?startIndex=1&count=1", None)
            .await;
        let p1_ids = ids(&p1.resources());
        let si = p1.json().get("startIndex").and_then(Value::as_u64);
        let ok = p1.status() == 200
            && si == Some(1)
            && !first_ids.is_empty()
            && p1_ids.first() == first_ids.first();
        self.judge(
            "pagination.one_based",
            "startIndex=1 returns the first resource (RFC 7644 §3.4.2.4 is 1-based)",
            "pagination",
            ok,
            format!(
                "startIndex echoed {}; first of page {}, first of listing {}",
                si.plain(),
                p1_ids.first().plain(),
                first_ids.first().plain()
            ),
            &p1,
        );

        let mut walked = Vec::new();
        let mut last = None;
        for i in 1..=first_ids.len().min(3) {
            let ex = self
                .call(Method::Get, format!("/Users?startIndex={i}&count=1"), None)
                .await;
            walked.extend(ids(&ex.resources()));
            last = Some(ex);
        }
        if let Some(ex) = last {
            self.judge(
                "pagination.pages_consistent",
                "Pages of one at startIndex 1, 2, 3 match the unpaged listing",
                "pagination",
                walked == first_ids,
                format!("paged {}, listing {}", walked.plain(), first_ids.plain()),
                &ex,
            );
        } else {
            self.blocked(
                "pagination.pages_consistent",
                "Pages of one at startIndex 1, 2, 3 match the unpaged listing",
                "pagination",
                "listing users",
            );
        }

        let ex = self
            .call(Method::Get, "/Users?startIndex=1&count=2", None)
            .await;
        let ipp = ex.json().get("itemsPerPage").and_then(Value::as_u64);
        let n = ex.resources().len() as u64;
        self.judge(
            "pagination.items_per_page",
            "itemsPerPage equals the number of resources returned",
            "pagination",
            ex.status() == 200 && ipp == Some(n),
            format!("itemsPerPage {}, resources {n}", ipp.plain()),
            &ex,
        );
        let total = ex.json().get("totalResults").and_then(Value::as_u64);
        let total1 = p1.json().get("totalResults").and_then(Value::as_u64);
        let ok = total.is_some_and(|t| t >= 3 && t >= n) && total == total1;
        self.judge(
            "pagination.total_results",
            "totalResults counts every match, independent of count",
            "pagination",
            ok,
            format!(
                "totalResults {} at count=2, {} at count=1 (this run created 3+ users)",
                total.plain(),
                total1.plain()
            ),
            &ex,
        );

        self.cursor_pagination(spc).await;

        let max = at(spc, "filter.maxResults").and_then(Value::as_u64);
        let supported = at(spc, "filter.supported")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match max {
            Some(max) if supported && max > 0 => {
                let ex = self
                    .call(Method::Get, format!("/Users?count={}", max + 1), None)
                    .await;
                let n = ex.resources().len() as u64;
                let ipp = ex
                    .json()
                    .get("itemsPerPage")
                    .and_then(Value::as_u64)
                    .unwrap_or(n);
                self.judge(
                    "discovery.filter_max_results",
                    "filter.supported with a maxResults the server respects",
                    "discovery",
                    ex.status() == 200 && n <= max && ipp <= max,
                    format!("maxResults {max}; count={} returned {n}", max + 1),
                    &ex,
                );
            }
            _ => {
                let ex = self.call(Method::Get, "/ServiceProviderConfig", None).await;
                self.judge("discovery.filter_max_results", "filter.supported with a maxResults the server respects", "discovery", false,
                    format!("filter.supported {supported}, maxResults {}: Okta and Entra need filtering", max.plain()), &ex);
            }
        }
    }

    /// RFC 9865 cursor pagination, when ServiceProviderConfig advertises it
    /// (`pagination.cursor: true`): this run's users, walked one per page by `nextCursor`,
    /// are exactly the ones the unpaged listing finds, and a forged cursor is refused with
    /// `invalidCursor`.
    pub(super) async fn cursor_pagination(&mut self, spc: &Value) {
        const WALK: (&str, &str) = (
            "pagination.cursor_walk",
            "Following nextCursor one resource per page returns each match once (RFC 9865 §2)",
        );
        const FORGED: (&str, &str) = (
            "pagination.cursor_invalid",
            "A forged cursor is a 400 with scimType invalidCursor (RFC 9865 §2.1)",
        );
        if at(spc, "pagination.cursor").and_then(Value::as_bool) != Some(true) {
            for (id, title) in [WALK, FORGED] {
                self.record(
                    id,
                    title,
                    "pagination",
                    Outcome::NotApplicable,
                    "ServiceProviderConfig does not advertise pagination.cursor".into(),
                    None,
                );
            }
            return;
        }
        let mine = encode_query(&format!(
            "userName sw {}",
            filter_literal(&format!("muster-check-{}-", self.tag))
        ));
        let all = self
            .call(Method::Get, format!("/Users?filter={mine}&count=100"), None)
            .await;
        let want = ids(&all.resources());
        let (mut walked, mut pages, mut problem) = (Vec::new(), 0, None);
        let mut cursor = String::new();
        let mut last = None;
        // A few more pages than matches: a server that never stops is caught, not followed.
        while pages <= want.len() + 2 {
            let ex = self
                .call(
                    Method::Get,
                    format!("/Users?filter={mine}&cursor={cursor}&count=1"),
                    None,
                )
                .await;
            pages += 1;
            let n = ex.resources().len() as u64;
            let ipp = ex.json().get("itemsPerPage").and_then(Value::as_u64);
            if ex.status() != 200 || ipp != Some(n) || n > 1 {
                problem = Some(format!(
                    "page {pages}: status {}, itemsPerPage {}, {n} resources at count=1",
                    ex.status(),
                    ipp.plain()
                ));
                last = Some(ex);
                break;
            }
            walked.extend(ids(&ex.resources()));
            let next = ex.json().get("nextCursor").and_then(Value::as_str);
            match next {
                Some(c) => cursor = encode_query(c),
                None => {
                    last = Some(ex);
                    break;
                }
            }
            last = Some(ex);
        }
        let mut unique = walked.clone();
        unique.sort();
        unique.dedup();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        let ok = problem.is_none()
            && all.status() == 200
            && want.len() >= 3
            && unique.len() == walked.len()
            && unique == want_sorted;
        let reason = problem.unwrap_or_else(|| {
            format!(
                "{} page(s) walked, {} resource(s) ({} distinct); the unpaged listing has {}",
                pages,
                walked.len(),
                unique.len(),
                want.len()
            )
        });
        match last {
            Some(ex) => self.judge(WALK.0, WALK.1, "pagination", ok, reason, &ex),
            None => self.judge(WALK.0, WALK.1, "pagination", false, reason, &all),
        }

        let ex = self
            .call(
                Method::Get,
                "/Users?cursor=muster-check-forged-cursor&count=1",
                None,
            )
            .await;
        let scim_type = str_at(ex.json(), "scimType").map(str::to_string);
        self.judge(
            FORGED.0,
            FORGED.1,
            "pagination",
            ex.status() == 400 && scim_type.as_deref() == Some("invalidCursor"),
            format!("{}, scimType {}", ex.describe(), scim_type.plain()),
            &ex,
        );
    }
}
