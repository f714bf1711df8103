use super::*;
use serde_json::json;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(s: &str) -> LabelSelector {
    match LabelSelector::parse(s) {
        Ok(selector) => selector,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

fn error(s: &str) -> String {
    match LabelSelector::parse(s) {
        Ok(selector) => panic!("{s:?} should not parse, got {selector}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn equality_forms() {
    let l = labels(&[("app", "web"), ("tier", "front")]);
    assert!(parse("app=web").matches(&l));
    assert!(parse("app==web").matches(&l));
    assert!(parse(" app = web , tier=front ").matches(&l));
    assert!(!parse("app!=web").matches(&l));
    assert!(parse("missing!=x").matches(&l));
    assert!(parse("").matches(&l));
    assert!(parse("").is_empty());
}

#[test]
fn set_forms() {
    let l = labels(&[("env", "prod")]);
    assert!(parse("env in (prod, dev)").matches(&l));
    assert!(!parse("env notin (prod)").matches(&l));
    assert!(parse("other notin (prod)").matches(&l));
    assert!(!parse("other in (prod)").matches(&l));
    assert!(parse("env").matches(&l));
    assert!(!parse("!env").matches(&l));
    assert!(parse("!other").matches(&l));
    assert!(parse("x in (in,notin)").matches(&labels(&[("x", "in")])));
    assert!(parse("env in ()").matches(&labels(&[("env", "")])));
}

#[test]
fn numeric_comparisons() {
    let l = labels(&[("n", "5")]);
    assert!(parse("n>3").matches(&l));
    assert!(parse("n<6").matches(&l));
    assert!(!parse("n>5").matches(&l));
    assert!(!parse("m>1").matches(&l));
}

#[test]
fn canonical_text_sorts_keys_and_values() {
    assert_eq!(
        parse("z=1,a in (y,x),!b,c").to_string(),
        "a in (x,y),!b,c,z=1"
    );
}

#[test]
fn upstream_error_texts() {
    assert_eq!(error("a=b,"), "found '', expected: identifier after ','");
    assert_eq!(
        error("a in b"),
        "unable to parse requirement: found 'b' expected: '('"
    );
    assert_eq!(
        error("a in (b"),
        "unable to parse requirement: found '', expected: ',' or ')'"
    );
    assert_eq!(
        error("a=b c"),
        "found 'c', expected: ',' or 'end of string'"
    );
    assert_eq!(
        error("=a"),
        "found '=', expected: !, identifier, or 'end of string'"
    );
    assert_eq!(
        error("a (b)"),
        "unable to parse requirement: found '(', expected: '=', '!=', '==', 'in', notin'"
    );
    assert!(error("a_=b").starts_with(
        "unable to parse requirement: <nil>: Invalid value: \"a_\": name part must consist of"
    ));
    assert!(error("a=-b").starts_with(
        "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label"
    ));
    assert!(error("a>b").contains("for 'Gt', 'Lt' operators, the value must be an integer"));
}

#[test]
fn from_label_selector_object() {
    let selector = LabelSelector::from_label_selector_json(Some(&json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "legacy", "operator": "DoesNotExist"}
        ]
    })))
    .expect("valid");
    assert_eq!(selector.to_string(), "app=web,!legacy,tier in (a,b)");
    assert!(selector.matches(&labels(&[("app", "web"), ("tier", "a")])));
    assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "a"), ("legacy", "")])));

    let everything = LabelSelector::from_label_selector_json(Some(&json!({}))).expect("valid");
    assert!(everything.matches(&labels(&[])));
    let nothing = LabelSelector::from_label_selector_json(None).expect("valid");
    assert!(!nothing.matches(&labels(&[])));
}

#[test]
fn invalid_label_selector_objects() {
    let bad_operator = LabelSelector::from_label_selector_json(Some(&json!({
        "matchExpressions": [{"key": "a", "operator": "Has"}]
    })));
    assert_eq!(
        bad_operator.map_err(|e| e.to_string()),
        Err("\"Has\" is not a valid label selector operator".to_string())
    );
    let empty_in = LabelSelector::from_label_selector_json(Some(&json!({
        "matchExpressions": [{"key": "a", "operator": "In", "values": []}]
    })));
    assert_eq!(
        empty_in.map_err(|e| e.to_string()),
        Err("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty".to_string())
    );
}

#[test]
fn matches_objects() {
    let selector = parse("app=web");
    assert!(selector.matches_object(&json!({"metadata": {"labels": {"app": "web"}}})));
    assert!(!selector.matches_object(&json!({"metadata": {}})));
    assert!(parse("!app").matches_object(&json!({"metadata": {}})));
}
