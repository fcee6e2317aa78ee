//! Remote HTML reduced to what Mastodon allows (`Sanitize::Config::MASTODON_STRICT`
//! in spirit): text formatting, links and the microformat classes clients use
//! to recognise mentions and hashtags. Everything else is dropped.

use std::collections::HashSet;
use std::sync::LazyLock;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from([
            "p",
            "br",
            "span",
            "a",
            "del",
            "s",
            "pre",
            "blockquote",
            "code",
            "b",
            "strong",
            "u",
            "i",
            "em",
            "ul",
            "ol",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "sup",
            "sub",
        ]))
        .add_tag_attributes("a", ["href", "translate"])
        .add_tag_attributes("span", ["translate"])
        .add_tag_attributes("ol", ["start", "reversed"])
        .add_tag_attributes("li", ["value"])
        .allowed_classes(std::collections::HashMap::from([
            (
                "a",
                HashSet::from([
                    "h-card",
                    "u-url",
                    "mention",
                    "hashtag",
                    "status-link",
                    "unhandled-link",
                ]),
            ),
            (
                "span",
                HashSet::from(["h-card", "invisible", "ellipsis", "quote-inline"]),
            ),
        ]))
        .url_schemes(HashSet::from([
            "http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet",
            "gemini",
        ]))
        .link_rel(Some("nofollow noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true);
    builder
});

/// Sanitise HTML from another server before storing or showing it.
pub fn html(remote: &str) -> String {
    SANITIZER.clean(remote).to_string()
}

/// Plain text (display names, usernames): no markup survives, entities decoded
/// by the client's escaping instead.
pub fn text(remote: &str, max_chars: usize) -> String {
    remote
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_styles_and_handlers_are_removed() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><img src=x onerror=y><a href="javascript:alert(1)">x</a><a href="https://ok.example/" class="mention evil">@ok</a><iframe src="https://e"></iframe><style>p{}</style></p>"#;
        let clean = html(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(
            !clean.contains("onclick") && !clean.contains("onerror"),
            "{clean}"
        );
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(
            !clean.contains("<img") && !clean.contains("iframe") && !clean.contains("style"),
            "{clean}"
        );
        assert!(clean.contains(r#"href="https://ok.example/""#), "{clean}");
        assert!(clean.contains(r#"class="mention""#), "{clean}");
        assert!(
            clean.contains(r#"rel="nofollow noopener noreferrer""#),
            "{clean}"
        );
    }

    #[test]
    fn mastodon_markup_survives() {
        let mastodon = r#"<p><span class="h-card" translate="no"><a href="https://m.example/@a" class="u-url mention">@<span>a</span></a></span> hi <a href="https://m.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a><br />line</p>"#;
        let clean = html(mastodon);
        assert!(
            clean.contains(r#"<span class="h-card" translate="no">"#),
            "{clean}"
        );
        assert!(clean.contains(r#"class="mention hashtag""#), "{clean}");
        assert!(clean.contains("<br>"), "{clean}");
    }

    #[test]
    fn text_drops_control_characters_and_is_bounded() {
        assert_eq!(text("a\u{0}b\nc", 10), "abc");
        assert_eq!(text(&"x".repeat(5000), 30).len(), 30);
    }
}
