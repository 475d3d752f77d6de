//! The readiness report (`idp::check::Report`) as a PDF a buyer can file: the server tested, the date and version, the IPSIE level verdict, every check with its references, and what cannot be tested from outside.

use crate::pdf::{self, text, wrap, Document, Font, Line};
use idp::check::{Outcome, Report};

/// Characters per line of body text on A4 portrait at 9 pt Helvetica.
const WIDTH: usize = 105;

/// A download name: `muster-readiness-<date>.pdf` (the run's UTC date).
pub fn file_name(r: &Report) -> String {
    format!("muster-readiness-{}.pdf", r.generated_at.format("%Y-%m-%d"))
}

fn para(lines: &mut Vec<Line>, font: Font, size: f32, t: &str, width: usize) {
    for w in wrap(t, width) {
        lines.push(text(font, size, w));
    }
}

fn alert(lines: &mut Vec<Line>, t: &str) {
    for w in wrap(t, WIDTH) {
        lines.push(Line::Text {
            font: Font::Bold,
            size: 9.0,
            text: w,
            alert: true,
        });
    }
}

/// The report as an A4 portrait PDF in the standard fonts.
pub fn readiness_pdf(r: &Report) -> Vec<u8> {
    let mut lines = vec![
        text(Font::Bold, 16.0, "SCIM readiness report"),
        Line::Space(4.0),
    ];
    let date = r.generated_at.format("%Y-%m-%d %H:%M UTC").to_string();
    para(
        &mut lines,
        Font::Regular,
        10.0,
        &format!("Server tested: {}", r.target),
        WIDTH,
    );
    para(
        &mut lines,
        Font::Regular,
        10.0,
        &format!("Date: {date}"),
        WIDTH,
    );
    para(
        &mut lines,
        Font::Regular,
        10.0,
        &format!("Muster version: {}", r.version),
        WIDTH,
    );
    let c = &r.counts;
    para(
        &mut lines,
        Font::Regular,
        10.0,
        &format!(
            "Result: {} checks: {} passed, {} failed, {} not applicable.",
            c.total, c.pass, c.fail, c.not_applicable
        ),
        WIDTH,
    );

    lines.push(Line::Space(8.0));
    lines.push(text(Font::Bold, 12.0, "IPSIE SCIM profile levels (draft)"));
    para(&mut lines, Font::Regular, 9.0, &r.levels.summary, WIDTH);
    if !r.levels.missing.is_empty() {
        let next = r.levels.next.map(|l| l.label()).unwrap_or("the next level");
        para(
            &mut lines,
            Font::Regular,
            9.0,
            &format!("Missing for {next}:"),
            WIDTH,
        );
        for m in &r.levels.missing {
            para(&mut lines, Font::Regular, 9.0, &format!("  - {m}"), WIDTH);
        }
    }
    para(
        &mut lines,
        Font::Regular,
        8.0,
        "AL1: deprovisioning (find, deactivate and delete users). AL2: the users-and-groups lifecycle. AL3: roles and entitlements. A level is met when every check that bears on it, and on the levels below, passed or did not apply.",
        WIDTH + 12,
    );

    lines.push(Line::Space(8.0));
    lines.push(text(Font::Bold, 12.0, "Checks"));
    para(
        &mut lines,
        Font::Regular,
        8.0,
        idp::render::LEGEND,
        WIDTH + 12,
    );
    let mut category = "";
    for check in &r.checks {
        if check.category != category {
            category = &check.category;
            lines.push(Line::Space(5.0));
            lines.push(text(Font::Bold, 10.0, category.to_string()));
        }
        lines.push(Line::Space(2.0));
        let head = format!("{}  {}", check.outcome.label(), check.title);
        if check.outcome == Outcome::Fail {
            alert(&mut lines, &head);
        } else {
            para(&mut lines, Font::Bold, 9.0, &head, WIDTH);
        }
        para(
            &mut lines,
            Font::Regular,
            8.5,
            &format!("Result: {}", check.reason),
            WIDTH + 6,
        );
        para(
            &mut lines,
            Font::Regular,
            8.0,
            &format!("Supports: {}", check.supports.line()),
            WIDTH + 12,
        );
        lines.push(text(Font::Mono, 7.0, format!("check id: {}", check.id)));
    }

    lines.push(Line::Space(8.0));
    lines.push(text(Font::Bold, 12.0, "Not tested from outside"));
    para(
        &mut lines,
        Font::Regular,
        9.0,
        "No request to the SCIM endpoint can prove these; they are not counted as passed. The operator shows the evidence named here instead.",
        WIDTH,
    );
    for u in &r.not_tested {
        lines.push(Line::Space(2.0));
        para(&mut lines, Font::Bold, 9.0, &u.requirement, WIDTH);
        para(
            &mut lines,
            Font::Regular,
            8.5,
            &format!("Asked by: {}", u.source),
            WIDTH + 6,
        );
        para(
            &mut lines,
            Font::Regular,
            8.5,
            &format!("Show instead: {}", u.show_instead),
            WIDTH + 6,
        );
    }
    if !r.leftovers.is_empty() {
        lines.push(Line::Space(8.0));
        alert(
            &mut lines,
            &format!(
                "The run could not delete these test resources again; remove them on the server: {}",
                r.leftovers.join(", ")
            ),
        );
    }

    let doc = Document {
        title: "SCIM readiness report",
        producer: &format!("Muster {}", r.version),
        subject: &r.target,
        landscape: false,
    };
    pdf::render(&doc, &lines, |page, count| {
        // The target is in the header; a long URL here would run off the page.
        format!(
            "SCIM readiness report  -  {date}  -  Muster {}  -  page {page} of {count}",
            r.version
        )
    })
}
