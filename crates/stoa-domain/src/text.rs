//! Plain-text statuses: entity scanning, HTML rendering and length counting.
//!
//! Local statuses are written as plain text and served as HTML. The HTML has
//! to look exactly like what Mastodon produces for its own local statuses,
//! because client apps (Tusky, toot, Mastodon.py, ...) pick mentions and
//! hashtags out of the markup by its classes (`h-card`, `u-url mention`,
//! `mention hashtag`) and shorten links by the `invisible`/`ellipsis` spans.
//!
//! Everything here is a hand-written scanner over `&str`: every index it
//! slices at comes from a char boundary, and there is no input that makes it
//! panic. Work is linear in the length of the text.

use std::collections::HashSet;

/// A mention found in text: `@user` (local, domain None) or `@user@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionToken {
    /// The username as written (ASCII letters, digits, `_`, inner `.`/`-`).
    pub username: String,
    /// The domain as written, for `@user@domain`; `None` for `@user`.
    pub domain: Option<String>,
}

/// Scan result before rendering.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scanned {
    /// Mentions in order of appearance, deduplicated case-insensitively by
    /// username and domain (first spelling kept).
    pub mentions: Vec<MentionToken>,
    /// Hashtag names as written, without `#`, deduplicated case-insensitively
    /// (first spelling kept), in order of appearance.
    pub hashtags: Vec<String>,
}

/// What the renderer needs to know about a mention that resolved to a real
/// account.
pub struct ResolvedMention<'a> {
    /// The account's username; this (without the domain) is what is shown.
    pub username: &'a str,
    /// The account's domain, `None` for a local account.
    pub domain: Option<&'a str>,
    /// The account's profile URL, used as the link target.
    pub url: &'a str,
}

/// Find the mentions and hashtags in `text`: exactly those that [`render`]
/// links, when every mention resolves.
pub fn scan(text: &str) -> Scanned {
    let prepared = prepare(text);
    let mut scanned = Scanned::default();
    let mut seen_mentions: HashSet<(String, Option<String>)> = HashSet::new();
    let mut seen_tags: HashSet<String> = HashSet::new();
    for token in tokenize(&prepared) {
        match token {
            Token::Mention { username, domain } => {
                let key = (
                    username.to_lowercase(),
                    domain.map(|domain| domain.to_lowercase()),
                );
                if seen_mentions.insert(key) {
                    scanned.mentions.push(MentionToken {
                        username: username.to_owned(),
                        domain: domain.map(str::to_owned),
                    });
                }
            }
            Token::Hashtag { name } => {
                if seen_tags.insert(normalize_tag(name)) {
                    scanned.hashtags.push(name.to_owned());
                }
            }
            Token::Text(_) | Token::Url(_) => {}
        }
    }
    scanned
}

/// Render plain text to HTML. `resolve` maps a MentionToken to the account it
/// names (None = leave the text as plain escaped text, no link).
/// `tag_url` maps a hashtag name (as written) to its URL, e.g.
/// `https://example.com/tags/foo`.
///
/// The output is what Mastodon produces for a local status: escaped text,
/// paragraphs split on blank lines into `<p>`, single newlines as `<br />`,
/// and links for URLs, resolved mentions and hashtags.
///
/// `resolve` usually borrows the accounts it returns from a map the caller owns.
pub fn render<'r>(
    text: &str,
    resolve: &dyn Fn(&MentionToken) -> Option<ResolvedMention<'r>>,
    tag_url: &dyn Fn(&str) -> String,
) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let prepared = prepare(text);
    let mut out = HtmlWriter::new(prepared.len());
    for token in tokenize(&prepared) {
        match token {
            Token::Text(text) => out.text(text),
            Token::Url(url) => out.raw(&link_to_url(url)),
            Token::Mention { username, domain } => {
                let mention = MentionToken {
                    username: username.to_owned(),
                    domain: domain.map(str::to_owned),
                };
                match resolve(&mention) {
                    Some(account) => out.raw(&link_to_mention(&account)),
                    None => {
                        out.text("@");
                        out.text(username);
                        if let Some(domain) = domain {
                            out.text("@");
                            out.text(domain);
                        }
                    }
                }
            }
            Token::Hashtag { name } => out.raw(&link_to_hashtag(name, &tag_url(name))),
        }
    }
    out.finish()
}

/// Character count Mastodon uses for the max-length check: every URL counts
/// as 23 characters, a mention `@user@domain` counts as only `@user`,
/// everything else counts Unicode scalar values (chars).
///
/// The text is counted as given; Mastodon strips surrounding whitespace from
/// a status before it checks the length, so callers should do the same.
pub fn count_characters(text: &str) -> usize {
    tokenize(text)
        .into_iter()
        .map(|token| match token {
            Token::Text(text) => text.chars().count(),
            Token::Url(_) => URL_PLACEHOLDER_LENGTH,
            Token::Mention { username, .. } => 1 + username.chars().count(),
            Token::Hashtag { name } => 1 + name.chars().count(),
        })
        .sum()
}

/// Escape &, <, >, ", ' for HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Normalise a hashtag name for storage/lookup: lowercase (Unicode-aware).
pub fn normalize_tag(name: &str) -> String {
    name.to_lowercase()
}

/// How many characters a URL counts for, whatever its real length.
const URL_PLACEHOLDER_LENGTH: usize = 23;

/// How many characters of a URL (after its scheme and `www.`) are shown.
const URL_DISPLAY_LENGTH: usize = 30;

/// One piece of the text: either plain text or an entity that gets linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Text(&'a str),
    Url(&'a str),
    Mention {
        username: &'a str,
        domain: Option<&'a str>,
    },
    Hashtag {
        name: &'a str,
    },
}

/// Normalise line ends to `\n` and drop leading and trailing newlines.
fn prepare(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out.trim_matches('\n').to_owned()
}

/// Split text into plain text and entities, left to right. Entities never
/// overlap: whatever is inside a URL is part of the URL.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut text_start = 0;
    let mut prev: Option<char> = None;
    let mut i = 0;
    while let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) {
        let found = match c {
            'h' | 'H' => match_url(text, i, prev).map(|end| (end, Token::Url(slice(text, i, end)))),
            '@' => match_mention(text, i, prev)
                .map(|(end, username, domain)| (end, Token::Mention { username, domain })),
            '#' => match_hashtag(text, i, prev).map(|(end, name)| (end, Token::Hashtag { name })),
            _ => None,
        };
        match found {
            Some((end, token)) if end > i => {
                if text_start < i {
                    tokens.push(Token::Text(slice(text, text_start, i)));
                }
                tokens.push(token);
                prev = slice(text, i, end).chars().next_back();
                text_start = end;
                i = end;
            }
            _ => {
                prev = Some(c);
                i += c.len_utf8();
            }
        }
    }
    if text_start < text.len() {
        tokens.push(Token::Text(slice(text, text_start, text.len())));
    }
    tokens
}

/// `&text[start..end]`, or `""` if the range is not on char boundaries
/// (which the scanner never asks for).
fn slice(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or("")
}

/// The char just before byte offset `at`.
fn char_before(text: &str, at: usize) -> Option<char> {
    text.get(..at).and_then(|head| head.chars().next_back())
}

// ---------------------------------------------------------------------------
// URLs

/// Match a URL starting at byte `start`; returns its end.
///
/// `http://` or `https://` (any case), then a host starting with a letter or
/// digit, then anything up to whitespace, `<`, `>` or `"`, minus trailing
/// punctuation `.,;:!?'` and unbalanced closing parentheses.
fn match_url(text: &str, start: usize, prev: Option<char>) -> Option<usize> {
    if prev.is_some_and(char::is_alphanumeric) {
        return None;
    }
    let rest = text.get(start..)?;
    let scheme_len = url_scheme_len(rest)?;
    let after = rest.get(scheme_len..)?;
    if !after.chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    let mut end = after
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(after.len());
    let body = after.get(..end)?;
    let opening = body.matches('(').count();
    let mut closing = body.matches(')').count();
    while let Some(last) = char_before(after, end) {
        match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' => {}
            ')' if closing > opening => closing -= 1,
            _ => break,
        }
        // All of these are ASCII, one byte long.
        end -= 1;
    }
    Some(start + scheme_len + end)
}

/// Length of a leading `http://` or `https://` (ASCII case-insensitive).
fn url_scheme_len(text: &str) -> Option<usize> {
    ["http://", "https://"].into_iter().find_map(|scheme| {
        text.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| scheme.len())
    })
}

/// Length of the part of a URL that is hidden: scheme, `://` and a `www.`.
fn url_prefix_len(url: &str) -> usize {
    let scheme = url_scheme_len(url).unwrap_or(0);
    let www = url
        .get(scheme..scheme + 4)
        .filter(|head| head.eq_ignore_ascii_case("www."))
        .map_or(0, str::len);
    scheme + www
}

/// `<a>` for a URL, shortened for display the way Mastodon does.
fn link_to_url(url: &str) -> String {
    let prefix_len = url_prefix_len(url);
    let prefix = slice(url, 0, prefix_len);
    let rest = slice(url, prefix_len, url.len());
    let display_len = rest
        .char_indices()
        .nth(URL_DISPLAY_LENGTH)
        .map_or(rest.len(), |(i, _)| i);
    let display = slice(rest, 0, display_len);
    let suffix = slice(rest, display_len, rest.len());
    let class = if suffix.is_empty() { "" } else { "ellipsis" };

    let mut out = String::with_capacity(url.len() * 2 + 160);
    out.push_str("<a href=\"");
    push_escaped(&mut out, url);
    out.push_str(
        "\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">",
    );
    push_escaped(&mut out, prefix);
    out.push_str("</span><span class=\"");
    out.push_str(class);
    out.push_str("\">");
    push_escaped(&mut out, display);
    out.push_str("</span><span class=\"invisible\">");
    push_escaped(&mut out, suffix);
    out.push_str("</span></a>");
    out
}

// ---------------------------------------------------------------------------
// Mentions

/// Match a mention whose `@` is at byte `at`; returns its end, the username
/// and the domain.
///
/// The `@` must not follow a word char, `/`, `@` or `.` (so `foo@bar.com` is
/// no mention). The username is ASCII letters, digits and `_`, with runs of
/// `.`/`-` allowed between them. An `@domain` part needs a hostname with a
/// dot. As in Mastodon, a mention directly followed by `@`, `://` or an
/// accented Latin letter is not a mention at all.
fn match_mention(text: &str, at: usize, prev: Option<char>) -> Option<(usize, &str, Option<&str>)> {
    if prev.is_some_and(|p| is_word_char(p) || matches!(p, '/' | '@' | '.')) {
        return None;
    }
    let bytes = text.as_bytes();
    let is_user_byte = |pos: usize| {
        bytes
            .get(pos)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let is_separator_byte = |pos: usize| bytes.get(pos).is_some_and(|&b| b == b'.' || b == b'-');

    let user_start = at + 1;
    let mut user_end = user_start;
    while is_user_byte(user_end) {
        user_end += 1;
    }
    if user_end == user_start {
        return None;
    }
    loop {
        let mut next = user_end;
        while is_separator_byte(next) {
            next += 1;
        }
        if next == user_end || !is_user_byte(next) {
            break;
        }
        user_end = next;
        while is_user_byte(user_end) {
            user_end += 1;
        }
    }
    // Only ASCII bytes were consumed, so these are char boundaries.
    let username = text.get(user_start..user_end)?;

    let mut end = user_end;
    let mut domain = None;
    if bytes.get(user_end) == Some(&b'@') {
        let domain_start = user_end + 1;
        let rest = text.get(domain_start..)?;
        let run = rest
            .find(|c: char| !is_domain_char(c))
            .map_or(rest, |len| slice(rest, 0, len));
        let host = run.trim_end_matches(['.', '-']);
        if !host.chars().next().is_some_and(is_word_char) || !host.contains('.') {
            return None;
        }
        end = domain_start + host.len();
        domain = Some(host);
    }

    let after = text.get(end..)?;
    if after.starts_with('@')
        || after.starts_with("://")
        || after.chars().next().is_some_and(is_latin_accent)
    {
        return None;
    }
    Some((end, username, domain))
}

/// Characters of a (possibly internationalised) hostname.
fn is_domain_char(c: char) -> bool {
    c == '.' || c == '-' || (c != '_' && is_word_char(c))
}

/// Accented Latin letters and combining accents: a username directly followed
/// by one of these is a longer word, not a mention.
fn is_latin_accent(c: char) -> bool {
    matches!(
        c,
        '\u{c0}'..='\u{d6}'
            | '\u{d8}'..='\u{f6}'
            | '\u{f8}'..='\u{24f}'
            | '\u{253}'
            | '\u{254}'
            | '\u{256}'
            | '\u{257}'
            | '\u{259}'
            | '\u{25b}'
            | '\u{263}'
            | '\u{268}'
            | '\u{26f}'
            | '\u{272}'
            | '\u{289}'
            | '\u{28b}'
            | '\u{2bb}'
            | '\u{300}'..='\u{36f}'
            | '\u{1e00}'..='\u{1eff}'
    )
}

/// `<span class="h-card">` for a mention that names a real account.
fn link_to_mention(account: &ResolvedMention<'_>) -> String {
    let mut out = String::with_capacity(account.url.len() + account.username.len() + 100);
    out.push_str("<span class=\"h-card\" translate=\"no\"><a href=\"");
    push_escaped(&mut out, account.url);
    out.push_str("\" class=\"u-url mention\">@<span>");
    push_escaped(&mut out, account.username);
    out.push_str("</span></a></span>");
    out
}

// ---------------------------------------------------------------------------
// Hashtags

/// Match a hashtag whose `#` is at byte `at`; returns its end and the name.
///
/// The `#` must not follow a word char, `#`, `&` or `/`.
fn match_hashtag(text: &str, at: usize, prev: Option<char>) -> Option<(usize, &str)> {
    if prev.is_some_and(|p| is_word_char(p) || matches!(p, '#' | '&' | '/')) {
        return None;
    }
    let name_start = at + 1;
    let rest = text.get(name_start..)?;
    let mut name = rest.get(..hashtag_name_len(rest)?)?;
    // `#foohttps://example.com`: the tag is `foo`, as in Mastodon.
    if text.get(name_start + name.len()..)?.starts_with("://") {
        let stripped = name
            .strip_suffix("https")
            .or_else(|| name.strip_suffix("http"))
            .filter(|stripped| !stripped.is_empty());
        if let Some(stripped) = stripped {
            name = stripped.get(..hashtag_name_len(stripped)?)?;
        }
    }
    Some((name_start + name.len(), name))
}

/// Byte length of the hashtag name at the start of `s`, if there is one.
///
/// This is Mastodon's `Tag::HASHTAG_NAME_PAT`: word chars (letters, marks,
/// digits, `_`) plus the separators `·`, `・` and ZWNJ, which may only occur
/// inside the name; the name must contain a letter (or an inner separator),
/// so `#123` is no hashtag.
fn hashtag_name_len(s: &str) -> Option<usize> {
    // Either the longest run of word chars and separators that starts and
    // ends with a word char and has a letter or separator strictly inside,
    let mut inner_marker_seen = false;
    let mut with_separators: Option<usize> = None;
    // or the leading run of word chars alone, if it contains a letter.
    let mut words_only: Option<usize> = None;
    let mut words_only_has_letter = false;
    let mut words_only_open = true;

    for (index, (offset, c)) in s.char_indices().enumerate() {
        let word = is_word_char(c);
        let separator = is_hashtag_separator(c);
        if !word && !separator {
            break;
        }
        let end = offset + c.len_utf8();
        if index == 0 && !word {
            return None;
        }
        if word {
            if inner_marker_seen {
                with_separators = Some(end);
            }
            if words_only_open {
                words_only = Some(end);
                words_only_has_letter |= c.is_alphabetic();
            }
        } else {
            words_only_open = false;
        }
        if index > 0 && (separator || c.is_alphabetic()) {
            inner_marker_seen = true;
        }
    }
    with_separators.or(words_only.filter(|_| words_only_has_letter))
}

/// Separators Mastodon allows inside hashtag names.
fn is_hashtag_separator(c: char) -> bool {
    matches!(c, '\u{b7}' | '\u{30fb}' | '\u{200c}')
}

/// `<a>` for a hashtag.
fn link_to_hashtag(name: &str, url: &str) -> String {
    let mut out = String::with_capacity(url.len() + name.len() + 80);
    out.push_str("<a href=\"");
    push_escaped(&mut out, url);
    out.push_str("\" class=\"mention hashtag\" rel=\"tag\">#<span>");
    push_escaped(&mut out, name);
    out.push_str("</span></a>");
    out
}

// ---------------------------------------------------------------------------
// Character classes

/// A "word" char as in Ruby's `[[:word:]]`: letters, digits, combining marks
/// and connector punctuation (such as `_`).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_mark_or_connector(c)
}

/// Combining marks and connector punctuation of the Basic Multilingual Plane
/// that are not already alphanumeric (viramas, Thai tone marks, accents, ...).
/// Pairs of inclusive ranges; a range may also cover letters, which are word
/// chars anyway, to keep the table short.
const MARK_RANGES: [u32; 168] = [
    0x0300, 0x036F, 0x0483, 0x0489, 0x0591, 0x05BD, 0x05BF, 0x05BF, 0x05C1, 0x05C2, 0x05C4, 0x05C5,
    0x05C7, 0x05C7, 0x0610, 0x061A, 0x064B, 0x065F, 0x0670, 0x0670, 0x06D6, 0x06DC, 0x06DF, 0x06E8,
    0x06EA, 0x06ED, 0x0711, 0x07F3, 0x07FD, 0x07FD, 0x0816, 0x082D, 0x0859, 0x085B, 0x0898, 0x08E1,
    0x08E3, 0x0963, 0x0981, 0x09E3, 0x09FE, 0x0A75, 0x0A81, 0x0AE3, 0x0AFA, 0x0B63, 0x0B82, 0x0BD7,
    0x0C00, 0x0C63, 0x0C81, 0x0C83, 0x0CBC, 0x0D4D, 0x0D57, 0x0D63, 0x0D81, 0x0DF3, 0x0E31, 0x0E3A,
    0x0E47, 0x0E4E, 0x0EB1, 0x0ECD, 0x0F18, 0x0F19, 0x0F35, 0x0F35, 0x0F37, 0x0F37, 0x0F39, 0x0F39,
    0x0F3E, 0x0F84, 0x0F86, 0x0FBC, 0x0FC6, 0x0FC6, 0x102B, 0x103E, 0x1056, 0x109D, 0x135D, 0x135F,
    0x1712, 0x1734, 0x1752, 0x17D3, 0x17DD, 0x17DD, 0x180B, 0x180D, 0x180F, 0x193B, 0x1A17, 0x1A1B,
    0x1A55, 0x1A7F, 0x1AB0, 0x1B44, 0x1B6B, 0x1B73, 0x1B80, 0x1BF3, 0x1C24, 0x1C37, 0x1CD0, 0x1CD2,
    0x1CD4, 0x1DFF, 0x203F, 0x2040, 0x2054, 0x2054, 0x20D0, 0x20F0, 0x2CEF, 0x2CF1, 0x2D7F, 0x2DFF,
    0x302A, 0x302F, 0x3099, 0x309A, 0xA66F, 0xA672, 0xA674, 0xA67D, 0xA69E, 0xA6F1, 0xA802, 0xA827,
    0xA82C, 0xA82C, 0xA880, 0xA8C5, 0xA8E0, 0xA8F1, 0xA8FF, 0xA92D, 0xA947, 0xA953, 0xA980, 0xA9C0,
    0xA9E5, 0xAA4D, 0xAA7B, 0xAAC1, 0xAAEB, 0xAAEF, 0xAAF5, 0xAAF6, 0xABE3, 0xABEA, 0xABEC, 0xABED,
    0xFB1E, 0xFB1E, 0xFE00, 0xFE0F, 0xFE20, 0xFE2F, 0xFE33, 0xFE34, 0xFE4D, 0xFE4F, 0xFF3F, 0xFF3F,
];

fn is_mark_or_connector(c: char) -> bool {
    let c = u32::from(c);
    if c < 0x300 {
        return false;
    }
    for range in MARK_RANGES.chunks_exact(2) {
        if let [start, end] = range {
            if c < *start {
                return false;
            }
            if c <= *end {
                return true;
            }
        }
    }
    false
}

// ---------------------------------------------------------------------------
// HTML output

/// Append `s` to `out`, HTML-escaped.
fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Builds the paragraphs: text is escaped, one newline becomes `<br />`, two
/// or more start a new `<p>`.
struct HtmlWriter {
    out: String,
    pending_newlines: usize,
}

impl HtmlWriter {
    fn new(capacity: usize) -> Self {
        let mut out = String::with_capacity(capacity * 2 + 16);
        out.push_str("<p>");
        Self {
            out,
            pending_newlines: 0,
        }
    }

    fn flush_newlines(&mut self) {
        match self.pending_newlines {
            0 => {}
            1 => self.out.push_str("<br />"),
            _ => self.out.push_str("</p><p>"),
        }
        self.pending_newlines = 0;
    }

    fn text(&mut self, text: &str) {
        for c in text.chars() {
            if c == '\n' {
                self.pending_newlines += 1;
            } else {
                self.flush_newlines();
                let mut buf = [0; 4];
                push_escaped(&mut self.out, c.encode_utf8(&mut buf));
            }
        }
    }

    fn raw(&mut self, html: &str) {
        self.flush_newlines();
        self.out.push_str(html);
    }

    fn finish(mut self) -> String {
        // Trailing newlines were trimmed; nothing pending is dropped.
        self.out.push_str("</p>");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Accounts the test resolver knows: (username, domain, url).
    const ACCOUNTS: &[(&str, Option<&str>, &str)] = &[
        ("alice", None, "https://example.com/@alice"),
        ("bob", Some("remote.example"), "https://remote.example/@bob"),
    ];

    fn resolve(mention: &MentionToken) -> Option<ResolvedMention<'static>> {
        ACCOUNTS
            .iter()
            .find(|(username, domain, _)| {
                username.eq_ignore_ascii_case(&mention.username)
                    && match (domain, &mention.domain) {
                        (None, None) => true,
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        _ => false,
                    }
            })
            .map(|&(username, domain, url)| ResolvedMention {
                username,
                domain,
                url,
            })
    }

    /// A resolver that echoes the token must outlive it; tests can afford to leak.
    fn leak(text: &str) -> &'static str {
        Box::leak(text.to_owned().into_boxed_str())
    }

    fn tag_url(name: &str) -> String {
        format!("https://example.com/tags/{}", normalize_tag(name))
    }

    fn html(text: &str) -> String {
        render(text, &resolve, &tag_url)
    }

    /// Expected markup of a link to `url`, shown as `prefix` + `display` +
    /// `suffix` (already escaped).
    fn link(href: &str, prefix: &str, display: &str, suffix: &str) -> String {
        let class = if suffix.is_empty() { "" } else { "ellipsis" };
        format!(
            "<a href=\"{href}\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\">\
             <span class=\"invisible\">{prefix}</span><span class=\"{class}\">{display}</span>\
             <span class=\"invisible\">{suffix}</span></a>"
        )
    }

    fn mention(url: &str, username: &str) -> String {
        format!(
            "<span class=\"h-card\" translate=\"no\"><a href=\"{url}\" class=\"u-url mention\">\
             @<span>{username}</span></a></span>"
        )
    }

    fn hashtag(normalized: &str, name: &str) -> String {
        format!(
            "<a href=\"https://example.com/tags/{normalized}\" class=\"mention hashtag\" \
             rel=\"tag\">#<span>{name}</span></a>"
        )
    }

    fn check(cases: &[(&str, String)]) {
        for (input, expected) in cases {
            assert_eq!(&html(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn paragraphs_and_line_breaks() {
        check(&[
            ("", String::new()),
            ("  \n\r\n \t", String::new()),
            ("hello", "<p>hello</p>".into()),
            ("a\nb", "<p>a<br />b</p>".into()),
            ("a\n\nb", "<p>a</p><p>b</p>".into()),
            ("a\n\n\n\nb\nc", "<p>a</p><p>b<br />c</p>".into()),
            ("a\r\n\r\nb\r\nc", "<p>a</p><p>b<br />c</p>".into()),
            ("a\rb", "<p>a<br />b</p>".into()),
            ("\n\n\nhello\n\n", "<p>hello</p>".into()),
            ("\r\nhello\r\n", "<p>hello</p>".into()),
            ("a\n \nb", "<p>a<br /> <br />b</p>".into()),
            ("  indented", "<p>  indented</p>".into()),
        ]);
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape_html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        check(&[
            (
                "<script>alert('x')</script>",
                "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>".into(),
            ),
            ("A & B \"q\"", "<p>A &amp; B &quot;q&quot;</p>".into()),
            ("&amp;", "<p>&amp;amp;</p>".into()),
        ]);
    }

    #[test]
    fn urls() {
        let long_tail = "a".repeat(80);
        check(&[
            (
                "see https://example.com.",
                "<p>see <a href=\"https://example.com\" target=\"_blank\" \
                 rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">https://\
                 </span><span class=\"\">example.com</span><span class=\"invisible\"></span>\
                 </a>.</p>"
                    .into(),
            ),
            (
                "Is it http://example.com/?!",
                format!(
                    "<p>Is it {}?!</p>",
                    link("http://example.com/", "http://", "example.com/", "")
                ),
            ),
            (
                "https://example.com/a,b;c:d, then",
                format!(
                    "<p>{}, then</p>",
                    link(
                        "https://example.com/a,b;c:d",
                        "https://",
                        "example.com/a,b;c:d",
                        ""
                    )
                ),
            ),
            (
                "it's 'https://example.com/x'",
                format!(
                    "<p>it&#39;s &#39;{}&#39;</p>",
                    link("https://example.com/x", "https://", "example.com/x", "")
                ),
            ),
            (
                "(see https://example.com/x)",
                format!(
                    "<p>(see {})</p>",
                    link("https://example.com/x", "https://", "example.com/x", "")
                ),
            ),
            (
                "(https://en.wikipedia.org/wiki/Foo_(bar))",
                format!(
                    "<p>({})</p>",
                    link(
                        "https://en.wikipedia.org/wiki/Foo_(bar)",
                        "https://",
                        "en.wikipedia.org/wiki/Foo_(bar",
                        ")"
                    )
                ),
            ),
            (
                "https://example.com/a_(b)_c",
                format!(
                    "<p>{}</p>",
                    link(
                        "https://example.com/a_(b)_c",
                        "https://",
                        "example.com/a_(b)_c",
                        ""
                    )
                ),
            ),
            (
                "https://www.example.com/a?b=1&c=2#frag",
                format!(
                    "<p>{}</p>",
                    link(
                        "https://www.example.com/a?b=1&amp;c=2#frag",
                        "https://www.",
                        "example.com/a?b=1&amp;c=2#frag",
                        ""
                    )
                ),
            ),
            (
                &format!("https://example.com/{long_tail}"),
                format!(
                    "<p>{}</p>",
                    link(
                        &format!("https://example.com/{long_tail}"),
                        "https://",
                        &format!("example.com/{}", "a".repeat(18)),
                        &"a".repeat(62),
                    )
                ),
            ),
            (
                // Exactly 30 characters after the prefix: no ellipsis.
                "http://example.com/123456789012345678",
                format!(
                    "<p>{}</p>",
                    link(
                        "http://example.com/123456789012345678",
                        "http://",
                        "example.com/123456789012345678",
                        ""
                    )
                ),
            ),
            (
                "<https://example.com/>",
                format!(
                    "<p>&lt;{}&gt;</p>",
                    link("https://example.com/", "https://", "example.com/", "")
                ),
            ),
            (
                "https://example.com/\"onclick=x",
                format!(
                    "<p>{}&quot;onclick=x</p>",
                    link("https://example.com/", "https://", "example.com/", "")
                ),
            ),
            (
                "HTTPS://Example.com/Ünï",
                format!(
                    "<p>{}</p>",
                    link("HTTPS://Example.com/Ünï", "HTTPS://", "Example.com/Ünï", "")
                ),
            ),
            (
                "a\nhttps://example.com\nb",
                format!(
                    "<p>a<br />{}<br />b</p>",
                    link("https://example.com", "https://", "example.com", "")
                ),
            ),
            ("xhttps://example.com", "<p>xhttps://example.com</p>".into()),
            ("http://", "<p>http://</p>".into()),
            ("https://.", "<p>https://.</p>".into()),
            ("ftp://example.com", "<p>ftp://example.com</p>".into()),
            ("http:/example.com", "<p>http:/example.com</p>".into()),
        ]);
    }

    #[test]
    fn mentions() {
        let alice = mention("https://example.com/@alice", "alice");
        let bob = mention("https://remote.example/@bob", "bob");
        check(&[
            ("hi @alice", format!("<p>hi {alice}</p>")),
            ("@alice: hi", format!("<p>{alice}: hi</p>")),
            ("@Alice.", format!("<p>{alice}.</p>")),
            ("(@alice)", format!("<p>({alice})</p>")),
            ("@bob@remote.example hi", format!("<p>{bob} hi</p>")),
            ("@bob@Remote.Example.", format!("<p>{bob}.</p>")),
            ("@bob@remote.example/x", format!("<p>{bob}/x</p>")),
            (
                "@alice\n@bob@remote.example",
                format!("<p>{alice}<br />{bob}</p>"),
            ),
            (
                "@alice@remote.example",
                "<p>@alice@remote.example</p>".into(),
            ),
            ("@carol unknown", "<p>@carol unknown</p>".into()),
            ("@bob", "<p>@bob</p>".into()),
            ("foo@bar.com", "<p>foo@bar.com</p>".into()),
            (
                "mail alice@example.com",
                "<p>mail alice@example.com</p>".into(),
            ),
            ("a/@alice", "<p>a/@alice</p>".into()),
            ("a.@alice", "<p>a.@alice</p>".into()),
            ("@@alice", "<p>@@alice</p>".into()),
            ("@alice@localhost", "<p>@alice@localhost</p>".into()),
            (
                "@alice@remote.example@x",
                "<p>@alice@remote.example@x</p>".into(),
            ),
            ("@alicé", "<p>@alicé</p>".into()),
            ("@alice://x", "<p>@alice://x</p>".into()),
            ("@aliceさん", format!("<p>{alice}さん</p>")),
            ("@alice-", format!("<p>{alice}-</p>")),
            ("@", "<p>@</p>".into()),
            ("@ alice", "<p>@ alice</p>".into()),
            (
                "https://example.com/@alice",
                format!(
                    "<p>{}</p>",
                    link(
                        "https://example.com/@alice",
                        "https://",
                        "example.com/@alice",
                        ""
                    )
                ),
            ),
        ]);

        // The shown name is the account's, and the resolver sees the token
        // exactly as written.
        let seen = RefCell::new(Vec::new());
        let out = render(
            "@Bob.Smith-Jr @x@Bücher.example.",
            &|m: &MentionToken| {
                seen.borrow_mut().push(m.clone());
                Some(ResolvedMention {
                    username: leak(&m.username),
                    domain: m.domain.as_deref().map(leak),
                    url: "https://x.example/u?a=1&b=2",
                })
            },
            &tag_url,
        );
        assert_eq!(
            out,
            format!(
                "<p>{} {}.</p>",
                mention("https://x.example/u?a=1&amp;b=2", "Bob.Smith-Jr"),
                mention("https://x.example/u?a=1&amp;b=2", "x")
            )
        );
        assert_eq!(
            seen.into_inner(),
            vec![
                MentionToken {
                    username: "Bob.Smith-Jr".into(),
                    domain: None
                },
                MentionToken {
                    username: "x".into(),
                    domain: Some("Bücher.example".into())
                },
            ]
        );
    }

    #[test]
    fn hashtags() {
        check(&[
            ("#rust", format!("<p>{}</p>", hashtag("rust", "rust"))),
            (
                "I ♥ #Rust!",
                format!("<p>I ♥ {}!</p>", hashtag("rust", "Rust")),
            ),
            ("#café", format!("<p>{}</p>", hashtag("café", "café"))),
            (
                "#cafe\u{301}s",
                format!("<p>{}</p>", hashtag("cafe\u{301}s", "cafe\u{301}s")),
            ),
            ("#हिन्दी", format!("<p>{}</p>", hashtag("हिन्दी", "हिन्दी"))),
            ("#日本語", format!("<p>{}</p>", hashtag("日本語", "日本語"))),
            (
                "#snake_case",
                format!("<p>{}</p>", hashtag("snake_case", "snake_case")),
            ),
            ("#a·b", format!("<p>{}</p>", hashtag("a·b", "a·b"))),
            ("#foo·", format!("<p>{}·</p>", hashtag("foo", "foo"))),
            ("#tag.", format!("<p>{}.</p>", hashtag("tag", "tag"))),
            ("#123abc", format!("<p>{}</p>", hashtag("123abc", "123abc"))),
            ("#2024", "<p>#2024</p>".into()),
            ("#123", "<p>#123</p>".into()),
            ("#", "<p>#</p>".into()),
            ("# tag", "<p># tag</p>".into()),
            ("#·foo", "<p>#·foo</p>".into()),
            ("a#tag", "<p>a#tag</p>".into()),
            ("&#tag", "<p>&amp;#tag</p>".into()),
            ("/#tag", "<p>/#tag</p>".into()),
            ("##tag", "<p>##tag</p>".into()),
            ("#foo#bar", format!("<p>{}#bar</p>", hashtag("foo", "foo"))),
            ("(#tag)", format!("<p>({})</p>", hashtag("tag", "tag"))),
            (
                "https://example.com/#tag",
                format!(
                    "<p>{}</p>",
                    link(
                        "https://example.com/#tag",
                        "https://",
                        "example.com/#tag",
                        ""
                    )
                ),
            ),
            (
                "#foohttps://example.com",
                format!("<p>{}https://example.com</p>", hashtag("foo", "foo")),
            ),
            ("#a <b>", format!("<p>{} &lt;b&gt;</p>", hashtag("a", "a"))),
        ]);
    }

    #[test]
    fn mixed() {
        let text = "Hi @alice!\n\nRead https://example.com/#notatag #News & #news\n@carol@x.org";
        assert_eq!(
            html(text),
            format!(
                "<p>Hi {}!</p><p>Read {} {} &amp; {}<br />@carol@x.org</p>",
                mention("https://example.com/@alice", "alice"),
                link(
                    "https://example.com/#notatag",
                    "https://",
                    "example.com/#notatag",
                    ""
                ),
                hashtag("news", "News"),
                hashtag("news", "news"),
            )
        );
    }

    #[test]
    fn scanning() {
        let text = "@alice @Alice @bob@remote.example @alice@Remote.example @ALICE@remote.EXAMPLE \
                    foo@bar.com #Foo #foo #bar #123 https://x.com/#baz @carol/#x a#b @dave@localhost";
        let mention = |username: &str, domain: Option<&str>| MentionToken {
            username: username.into(),
            domain: domain.map(Into::into),
        };
        assert_eq!(
            scan(text),
            Scanned {
                mentions: vec![
                    mention("alice", None),
                    mention("bob", Some("remote.example")),
                    mention("alice", Some("Remote.example")),
                    mention("carol", None),
                ],
                hashtags: vec!["Foo".into(), "bar".into()],
            }
        );
        assert_eq!(scan(""), Scanned::default());
        assert_eq!(scan("#café #CAFÉ").hashtags, vec!["café".to_owned()]);
    }

    /// `scan` finds exactly what `render` links when everything resolves.
    #[test]
    fn scan_agrees_with_render() {
        let texts = [
            "@alice @Alice @bob@remote.example #Foo #foo #bar",
            "x@y.com #1 #a1 http://a.com/@b#c @c@d.e.f. #g·h· (@i) [#j]",
            "#foohttp://a.com @k://x @l@m @n@o.p@q @r. @s.t-u_v",
            "\r\n@w\r\n\r\n#x\r\n",
        ];
        for text in texts {
            let mentions = RefCell::new(Vec::<MentionToken>::new());
            let tags = RefCell::new(Vec::<String>::new());
            render(
                text,
                &|m: &MentionToken| {
                    let mut seen = mentions.borrow_mut();
                    let key = |m: &MentionToken| {
                        (
                            m.username.to_lowercase(),
                            m.domain.as_ref().map(|d| d.to_lowercase()),
                        )
                    };
                    if !seen.iter().any(|s| key(s) == key(m)) {
                        seen.push(m.clone());
                    }
                    Some(ResolvedMention {
                        username: "u",
                        domain: None,
                        url: "https://example.com/@u",
                    })
                },
                &|name: &str| {
                    let mut seen = tags.borrow_mut();
                    if !seen.iter().any(|s| normalize_tag(s) == normalize_tag(name)) {
                        seen.push(name.to_owned());
                    }
                    tag_url(name)
                },
            );
            let scanned = scan(text);
            assert_eq!(scanned.mentions, mentions.into_inner(), "text: {text:?}");
            assert_eq!(scanned.hashtags, tags.into_inner(), "text: {text:?}");
        }
    }

    #[test]
    fn counting() {
        let url = format!("https://example.com/{}", "a".repeat(80));
        assert_eq!(url.chars().count(), 100);
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("hello", 5),
            ("héllo 👋", 7),
            ("e\u{301}", 2),
            (&url, 23),
            (&format!("see {url}."), 4 + 23 + 1),
            ("http://a.b", 23),
            ("@alice@very.long.domain.example", 6),
            ("@alice", 6),
            ("foo@very.long.domain.example", 28),
            (
                "hi https://example.com/x and @bob@example.org",
                3 + 23 + 5 + 4,
            ),
            ("#hashtag", 8),
            ("a\r\nb", 4),
        ];
        for (text, expected) in cases {
            assert_eq!(count_characters(text), *expected, "text: {text:?}");
        }
    }

    #[test]
    fn normalizing_tags() {
        assert_eq!(normalize_tag("Rust"), "rust");
        assert_eq!(normalize_tag("CAFÉ"), "café");
        assert_eq!(normalize_tag("ΣΊΣΥΦΟΣ"), "σίσυφος");
    }

    /// Nothing panics, and the paragraphs stay balanced, whatever the input.
    #[test]
    fn nasty_inputs_do_not_panic() {
        let mut nasty: Vec<String> = [
            "@",
            "#",
            "@@",
            "##",
            "@#",
            "#@",
            "http://",
            "https://",
            "https://(",
            "http://)",
            "http://a)))))",
            "((((http://a",
            "@a@",
            "@a@.",
            "@a@b.",
            "@a.",
            "@-",
            "@_",
            "#_",
            "#·",
            "#1·",
            "#\u{200c}",
            "x\u{200c}",
            "\u{301}",
            "#\u{301}",
            "@\u{301}",
            "a\u{301}\u{302}\u{303}#b\u{301}",
            "👋",
            "#👋",
            "@👋",
            "👨‍👩‍👧‍👦 #family",
            "\u{feff}#bom",
            "\r",
            "\n",
            "\r\n\r\n",
            "\n\r\n\r",
            "\r\r\r",
            "\0",
            "\u{202e}#rtl",
            "ＨＴＴＰ://example.com",
            "https://例え.jp/パス",
            "#ＡＢＣ",
            "@é@é.é",
            "&#39;",
            "https://a.b/#@c",
            "@a@b.c://",
            "#httphttp://x",
            "#http://x",
            "#xhttp://a.b",
            "http://a.b/\u{301}",
            "https://a.b/'''",
            "\u{10ffff}@\u{10ffff}#\u{10ffff}",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        nasty.push("@".repeat(10_000));
        nasty.push("#".repeat(10_000));
        nasty.push("http://".repeat(2_000));
        nasty.push("@a".repeat(5_000));
        nasty.push("#a".repeat(5_000));
        nasty.push(format!("http://a{}", ")".repeat(10_000)));
        nasty.push(format!("@{}", "a.".repeat(5_000)));
        nasty.push("\u{301}".repeat(5_000));
        nasty.push("\n".repeat(5_000));
        nasty.push("é🦀\r\n".repeat(2_000));

        for text in &nasty {
            let out = render(text, &resolve, &tag_url);
            let out_all = render(
                text,
                &|m: &MentionToken| {
                    Some(ResolvedMention {
                        username: leak(&m.username),
                        domain: m.domain.as_deref().map(leak),
                        url: "https://example.com/@x",
                    })
                },
                &tag_url,
            );
            for html in [&out, &out_all] {
                assert_eq!(html.matches("<p>").count(), html.matches("</p>").count());
                assert!(!html.contains("<p></p>"), "empty paragraph for {text:?}");
                assert!(!html.contains('\n') && !html.contains('\r'));
            }
            let scanned = scan(text);
            assert!(scanned.hashtags.iter().all(|t| !t.is_empty()));
            assert!(count_characters(text) <= text.chars().count().max(23) * 2);
        }
    }
}
