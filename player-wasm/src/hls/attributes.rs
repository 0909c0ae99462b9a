//! Attribute lists (`NAME=value,NAME="quoted value",…`, RFC 8216 section 4.2), with typed
//! getters whose errors name the line, the tag and the attribute.
//!
//! Lenient where real playlists are: spaces or tabs after a comma, a trailing comma,
//! lowercase hexadecimal. Strict where a reading could be ambiguous: text after a closing
//! quote, whitespace inside or after an unquoted value, empty unquoted values,
//! unterminated quotes, repeated attribute names.

use super::error::PlaylistError;
use super::values::Reason;

/// A tag occurrence: where it is and what it is called, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagAt<'a> {
    pub line: usize,
    pub name: &'a str,
}

impl TagAt<'_> {
    pub(crate) fn syntax(&self, message: impl Into<String>) -> PlaylistError {
        PlaylistError::Syntax {
            line: self.line,
            tag: self.name.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn missing(&self, attribute: &str) -> PlaylistError {
        PlaylistError::MissingAttribute {
            line: self.line,
            tag: self.name.to_owned(),
            attribute: attribute.to_owned(),
        }
    }

    pub(crate) fn invalid(&self, attribute: &str, value: &str, reason: &str) -> PlaylistError {
        PlaylistError::InvalidValue {
            line: self.line,
            tag: self.name.to_owned(),
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// One attribute value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttributeValue<'a> {
    /// Between double quotes (the quotes removed); may be empty.
    Quoted(&'a str),
    /// Anything else: numbers, enumerated strings, hexadecimal sequences, resolutions.
    Unquoted(&'a str),
}

/// The attributes of one tag, in order, with the tag for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Attributes<'a> {
    tag: TagAt<'a>,
    entries: Vec<(&'a str, AttributeValue<'a>)>,
}

impl<'a> Attributes<'a> {
    /// Parses the value of `tag` (the text after `:`) as an attribute list.
    pub(crate) fn parse(tag: TagAt<'a>, text: &'a str) -> Result<Self, PlaylistError> {
        let mut entries: Vec<(&'a str, AttributeValue<'a>)> = Vec::new();
        let mut rest = text;
        loop {
            rest = rest.trim_start_matches([' ', '\t']);
            if rest.is_empty() {
                break;
            }
            let (name, value, after) = split_attribute(rest).map_err(|m| tag.syntax(m))?;
            if entries.iter().any(|(seen, _)| *seen == name) {
                return Err(tag.syntax(format!("attribute {name} appears twice")));
            }
            entries.push((name, value));
            if after.is_empty() {
                break;
            }
            rest = after
                .strip_prefix(',')
                .ok_or_else(|| tag.syntax(format!("expected ',' after the value of {name}")))?;
        }
        Ok(Self { tag, entries })
    }

    /// The tag these attributes belong to.
    pub(crate) fn tag(&self) -> TagAt<'a> {
        self.tag
    }

    /// The value of `name` as written, if present.
    pub(crate) fn get(&self, name: &str) -> Option<AttributeValue<'a>> {
        self.entries
            .iter()
            .find(|(seen, _)| *seen == name)
            .map(|(_, value)| *value)
    }

    /// A quoted-string attribute.
    pub(crate) fn quoted(&self, name: &str) -> Result<Option<&'a str>, PlaylistError> {
        match self.get(name) {
            None => Ok(None),
            Some(AttributeValue::Quoted(text)) => Ok(Some(text)),
            Some(AttributeValue::Unquoted(text)) => {
                Err(self.tag.invalid(name, text, "expected a quoted string"))
            }
        }
    }

    /// A quoted-string attribute that must be present and not empty.
    pub(crate) fn required_quoted(&self, name: &str) -> Result<&'a str, PlaylistError> {
        let text = self.quoted(name)?.ok_or_else(|| self.tag.missing(name))?;
        if text.is_empty() {
            return Err(self.tag.invalid(name, text, "must not be empty"));
        }
        Ok(text)
    }

    /// An unquoted attribute (enumerated string, number, …).
    pub(crate) fn unquoted(&self, name: &str) -> Result<Option<&'a str>, PlaylistError> {
        match self.get(name) {
            None => Ok(None),
            Some(AttributeValue::Unquoted(text)) => Ok(Some(text)),
            Some(AttributeValue::Quoted(text)) => {
                Err(self.tag.invalid(name, text, "must not be quoted"))
            }
        }
    }

    /// An unquoted attribute that must be present.
    pub(crate) fn required_unquoted(&self, name: &str) -> Result<&'a str, PlaylistError> {
        self.unquoted(name)?.ok_or_else(|| self.tag.missing(name))
    }

    /// An unquoted attribute read with one of the value grammars.
    pub(crate) fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, Reason>,
    ) -> Result<Option<T>, PlaylistError> {
        self.unquoted(name)?
            .map(|text| parse(text).map_err(|reason| self.tag.invalid(name, text, reason)))
            .transpose()
    }

    /// A required unquoted attribute read with one of the value grammars.
    pub(crate) fn required_parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, Reason>,
    ) -> Result<T, PlaylistError> {
        self.parsed(name, parse)?
            .ok_or_else(|| self.tag.missing(name))
    }

    /// An enumerated attribute that must be one of `allowed`.
    pub(crate) fn one_of(
        &self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<&'a str>, PlaylistError> {
        let Some(text) = self.unquoted(name)? else {
            return Ok(None);
        };
        if allowed.contains(&text) {
            Ok(Some(text))
        } else {
            let reason = format!("expected one of {}", allowed.join(", "));
            Err(self.tag.invalid(name, text, &reason))
        }
    }

    /// A `YES`/`NO` attribute; absent means `NO`. A quoted `"YES"`/`"NO"` is tolerated.
    pub(crate) fn yes_no(&self, name: &str) -> Result<bool, PlaylistError> {
        let text = match self.get(name) {
            None => return Ok(false),
            Some(AttributeValue::Quoted(text) | AttributeValue::Unquoted(text)) => text,
        };
        match text {
            "YES" => Ok(true),
            "NO" => Ok(false),
            _ => Err(self.tag.invalid(name, text, "expected YES or NO")),
        }
    }
}

/// Splits `NAME=value` off the front of `text`: name, value, and what follows the value.
fn split_attribute(text: &str) -> Result<(&str, AttributeValue<'_>, &str), String> {
    let name_len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(text.len());
    if name_len == 0 {
        return Err(format!("expected an attribute name at {:?}", shorten(text)));
    }
    let (name, rest) = text.split_at(name_len);
    let rest = rest
        .strip_prefix('=')
        .ok_or_else(|| format!("expected '=' after attribute name {name}"))?;
    if let Some(quoted) = rest.strip_prefix('"') {
        let close = quoted
            .find('"')
            .ok_or_else(|| format!("unterminated quoted string in {name}"))?;
        return Ok((
            name,
            AttributeValue::Quoted(&quoted[..close]),
            &quoted[close + 1..],
        ));
    }
    let value_len = rest.find(',').unwrap_or(rest.len());
    let value = &rest[..value_len];
    if value.is_empty() {
        return Err(format!("attribute {name} has an empty value"));
    }
    if value.contains(['"', ' ', '\t']) {
        return Err(format!(
            "unquoted value of {name} contains a quote or whitespace: {:?}",
            shorten(value)
        ));
    }
    Ok((name, AttributeValue::Unquoted(value), &rest[value_len..]))
}

/// The first few characters of `text`, for error messages.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut short: String = text.chars().take(MAX_CHARS).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::values;

    const TAG: TagAt<'static> = TagAt {
        line: 7,
        name: "EXT-X-TEST",
    };

    fn parse(text: &str) -> Result<Attributes<'_>, PlaylistError> {
        Attributes::parse(TAG, text)
    }

    #[test]
    fn quoted_and_unquoted_values() {
        let attributes = parse(r#"BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",X="""#).unwrap();
        assert_eq!(
            attributes.parsed("BANDWIDTH", values::decimal_integer),
            Ok(Some(1_280_000))
        );
        assert_eq!(
            attributes.quoted("CODECS"),
            Ok(Some("avc1.4d401f,mp4a.40.2"))
        );
        assert_eq!(attributes.quoted("X"), Ok(Some("")));
        assert_eq!(attributes.quoted("MISSING"), Ok(None));
    }

    #[test]
    fn spaces_after_commas_and_a_trailing_comma_are_tolerated() {
        let attributes = parse("A=1, B=2,\tC=\"x\",").unwrap();
        assert_eq!(attributes.unquoted("A"), Ok(Some("1")));
        assert_eq!(attributes.unquoted("B"), Ok(Some("2")));
        assert_eq!(attributes.quoted("C"), Ok(Some("x")));
    }

    #[test]
    fn malformed_lists_are_syntax_errors_on_the_tag_line() {
        for bad in [
            "A",
            "A=",
            "A=,B=1",
            "=1",
            "A=\"open",
            "A=\"x\"junk",
            "A=\"x\" B=1",
            "A=1 B=2",
            "A=1,A=2",
            "A =1",
            "A=x\"y",
        ] {
            match parse(bad) {
                Err(PlaylistError::Syntax { line: 7, tag, .. }) => assert_eq!(tag, "EXT-X-TEST"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn typed_getters_name_the_attribute() {
        let attributes = parse(r#"TYPE="AUDIO",N=x,DEFAULT=MAYBE"#).unwrap();
        assert!(matches!(
            attributes.unquoted("TYPE"),
            Err(PlaylistError::InvalidValue { attribute, .. }) if attribute == "TYPE"
        ));
        assert!(matches!(
            attributes.quoted("N"),
            Err(PlaylistError::InvalidValue { attribute, .. }) if attribute == "N"
        ));
        assert!(matches!(
            attributes.parsed("N", values::decimal_integer),
            Err(PlaylistError::InvalidValue { value, .. }) if value == "x"
        ));
        assert!(matches!(
            attributes.yes_no("DEFAULT"),
            Err(PlaylistError::InvalidValue { .. })
        ));
        assert_eq!(
            attributes.required_quoted("NAME"),
            Err(PlaylistError::MissingAttribute {
                line: 7,
                tag: "EXT-X-TEST".into(),
                attribute: "NAME".into()
            })
        );
    }

    #[test]
    fn values_are_read_as_written_and_flags_may_be_quoted() {
        let attributes =
            parse(r#"URI="a.mp4", BYTERANGE="10@0",X=1,LANGUAGE="",FORCED="NO""#).unwrap();
        assert_eq!(attributes.get("URI"), Some(AttributeValue::Quoted("a.mp4")));
        assert_eq!(attributes.get("X"), Some(AttributeValue::Unquoted("1")));
        assert_eq!(attributes.quoted("LANGUAGE"), Ok(Some("")));
        assert_eq!(attributes.yes_no("FORCED"), Ok(false));
    }
}
