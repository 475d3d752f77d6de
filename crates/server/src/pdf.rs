//! Plain-text PDF layout shared by Muster's reports: the standard fonts, line wrapping, pagination with repeated table heads, and WinAnsi text.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// The three standard PDF fonts every reader has (no font embedded).
#[derive(Clone, Copy, PartialEq)]
pub enum Font {
    Regular,
    Bold,
    Mono,
}

/// One laid-out line, or a layout instruction.
#[derive(Clone)]
pub enum Line {
    Text {
        font: Font,
        size: f32,
        text: String,
        /// Red, for what the report cannot cover.
        alert: bool,
    },
    Space(f32),
    /// Lines repeated at the top of each page while a table continues.
    TableHead(Vec<Line>),
    TableEnd,
}

/// A black line of text.
pub fn text(font: Font, size: f32, t: impl Into<String>) -> Line {
    Line::Text {
        font,
        size,
        text: t.into(),
        alert: false,
    }
}

/// Splits text into lines of at most `width` characters at spaces.
pub fn wrap(t: &str, width: usize) -> Vec<String> {
    let mut out = vec![];
    let mut line = String::new();
    for word in t.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// Pads or cuts `s` to `n` characters (a cut ends in "…").
pub fn cell(s: &str, n: usize) -> String {
    let len = s.chars().count();
    if len > n {
        let mut c: String = s.chars().take(n.saturating_sub(1)).collect();
        c.push('…');
        c
    } else {
        format!("{s}{}", " ".repeat(n - len))
    }
}

/// Cells padded or cut to their widths, joined by a space (a monospaced table row).
pub fn row(cells: &[(&str, usize)]) -> String {
    cells
        .iter()
        .map(|(s, n)| cell(s, *n))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end()
        .to_string()
}

/// A4 in points, portrait.
const A4: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 36.0;

fn leading(l: &Line) -> f32 {
    match l {
        Line::Text { size, .. } => size * 1.35,
        Line::Space(s) => *s,
        _ => 0.0,
    }
}

/// What the PDF says about itself.
pub struct Document<'a> {
    pub title: &'a str,
    pub producer: &'a str,
    pub subject: &'a str,
    /// A4 landscape (wide tables) rather than portrait.
    pub landscape: bool,
}

/// Lays the lines out on A4 pages (repeating a table's head after a break), then writes them;
/// `footer(page, count)` is printed at the bottom of each page (pages count from 1).
pub fn render(doc: &Document, lines: &[Line], footer: impl Fn(usize, usize) -> String) -> Vec<u8> {
    let page_size = if doc.landscape { (A4.1, A4.0) } else { A4 };
    let bottom = MARGIN + 20.0;
    let mut pages: Vec<Vec<(f32, Line)>> = vec![vec![]];
    let mut y = page_size.1 - MARGIN;
    let mut head: Option<Vec<Line>> = None;
    for l in lines {
        match l {
            Line::TableHead(h) => {
                head = Some(h.clone());
                for hl in h {
                    y -= leading(hl);
                    if let Some(p) = pages.last_mut() {
                        p.push((y, hl.clone()));
                    }
                }
                continue;
            }
            Line::TableEnd => {
                head = None;
                continue;
            }
            _ => {}
        }
        if y - leading(l) < bottom {
            pages.push(vec![]);
            y = page_size.1 - MARGIN;
            for hl in head.iter().flatten() {
                y -= leading(hl);
                if let Some(p) = pages.last_mut() {
                    p.push((y, hl.clone()));
                }
            }
        }
        y -= leading(l);
        if let Some(p) = pages.last_mut() {
            p.push((y, l.clone()));
        }
    }

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [
        (Ref::new(4), Name(b"F1"), Name(b"Helvetica")),
        (Ref::new(5), Name(b"F2"), Name(b"Helvetica-Bold")),
        (Ref::new(6), Name(b"F3"), Name(b"Courier")),
    ];
    let mut next = 7;
    let count = pages.len();
    let ids: Vec<(Ref, Ref)> = (0..count)
        .map(|_| {
            next += 2;
            (Ref::new(next - 2), Ref::new(next - 1))
        })
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|(p, _)| *p))
        .count(count as i32);
    {
        let mut d = pdf.document_info(info);
        d.title(TextStr(doc.title));
        d.producer(TextStr(doc.producer));
        d.subject(TextStr(doc.subject));
        d.finish();
    }
    for (id, _, base) in fonts {
        pdf.type1_font(id)
            .base_font(base)
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (n, (items, (page_id, content_id))) in pages.iter().zip(&ids).enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, page_size.0, page_size.1));
        page.parent(tree);
        page.contents(*content_id);
        {
            let mut res = page.resources();
            let mut f = res.fonts();
            for (id, name, _) in fonts {
                f.pair(name, id);
            }
        }
        page.finish();
        let mut c = Content::new();
        for (y, l) in items {
            if let Line::Text {
                font,
                size,
                text,
                alert,
            } = l
            {
                if *alert {
                    c.set_fill_rgb(0.7, 0.0, 0.0);
                }
                show(&mut c, *font, *size, MARGIN, *y, text);
                if *alert {
                    c.set_fill_gray(0.0);
                }
            }
        }
        c.set_fill_gray(0.35);
        show(
            &mut c,
            Font::Mono,
            6.5,
            MARGIN,
            MARGIN,
            &footer(n + 1, count),
        );
        pdf.stream(*content_id, &c.finish());
    }
    pdf.finish()
}

fn show(c: &mut Content, font: Font, size: f32, x: f32, y: f32, t: &str) {
    let name = match font {
        Font::Regular => Name(b"F1"),
        Font::Bold => Name(b"F2"),
        Font::Mono => Name(b"F3"),
    };
    let bytes = win_ansi(t);
    c.begin_text();
    c.set_font(name, size);
    c.next_line(x, y);
    c.show(Str(&bytes));
    c.end_text();
}

/// Text in WinAnsiEncoding, the standard fonts' encoding: Latin-1 and the typographic
/// marks of 0x80-0x9F; anything else is shown as "?" (the JSON and CSV keep it exactly).
fn win_ansi(t: &str) -> Vec<u8> {
    const HIGH: &[(char, u8)] = &[
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    // Arrows and comparisons the reports use have no WinAnsi glyph: spelled in ASCII.
    const ASCII: &[(char, &str)] = &[
        ('→', "->"),
        ('←', "<-"),
        ('≤', "<="),
        ('≥', ">="),
        ('≠', "!="),
    ];
    let mut out = Vec::with_capacity(t.len());
    for c in t.chars() {
        match c as u32 {
            0x20..=0x7E | 0xA0..=0xFF => out.push(c as u32 as u8),
            _ => match ASCII.iter().find(|(a, _)| *a == c) {
                Some((_, s)) => out.extend_from_slice(s.as_bytes()),
                None => out.push(HIGH.iter().find(|(h, _)| *h == c).map_or(b'?', |(_, b)| *b)),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(cell("abcdef", 4), "abc…");
        assert_eq!(cell("ab", 4), "ab  ");
        assert_eq!(win_ansi("é€→x"), vec![0xE9, 0x80, b'-', b'>', b'x']);
        assert_eq!(win_ansi("✓"), vec![b'?']);
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
    }

    #[test]
    fn paginates_and_numbers_pages() {
        let lines: Vec<Line> = (0..120)
            .map(|i| text(Font::Regular, 9.0, format!("line {i}")))
            .collect();
        let doc = Document {
            title: "t",
            producer: "p",
            subject: "s",
            landscape: false,
        };
        let pdf = render(&doc, &lines, |n, count| format!("page {n} of {count}"));
        assert!(pdf.starts_with(b"%PDF-"));
        let s = String::from_utf8_lossy(&pdf);
        // 61 lines of 9 pt fit on an A4 portrait page.
        assert!(s.contains("/Count 2") && s.contains("page 2 of 2"), "{s}");
    }
}
