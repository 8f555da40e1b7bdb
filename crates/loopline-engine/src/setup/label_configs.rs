//! The labeling configs a new project starts from, and the IAM policy of the user Label
//! Studio reaches the bucket as. Both are built from data: labels are XML-escaped, and the
//! policy is a JSON value.

use loopline_core::LabelTemplate;
use serde_json::json;

/// Distinct colours, so neighbouring classes are told apart on the image.
const COLOURS: [&str; 8] = [
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c",
];

pub fn label_config(template: LabelTemplate, labels: &[String]) -> String {
    let (tag, extra) = match template {
        LabelTemplate::SemanticSegmentationPolygons => (
            "PolygonLabels",
            r#" strokeWidth="3" pointSize="small" opacity="0.9""#,
        ),
        LabelTemplate::BoundingBoxes => ("RectangleLabels", ""),
    };
    let mut out =
        String::from("<View>\n  <Image name=\"image\" value=\"$image\" zoom=\"true\"/>\n");
    out.push_str(&format!(
        "  <{tag} name=\"label\" toName=\"image\"{extra}>\n"
    ));
    for (i, l) in labels.iter().enumerate() {
        out.push_str(&format!(
            "    <Label value=\"{}\" background=\"{}\"/>\n",
            xml_attr(l),
            COLOURS[i % COLOURS.len()]
        ));
    }
    out.push_str(&format!("  </{tag}>\n</View>\n"));
    out
}

/// Two configs are the same when they differ only in whitespace between tags.
pub fn same_config(a: &str, b: &str) -> bool {
    let squash = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("> <", "><")
    };
    squash(a) == squash(b)
}

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Label Studio user's policy: list the two prefixes, read the images, read and write
/// the annotations (Label Studio deletes an annotation's object when it is deleted).
pub fn storage_user_policy(
    partition: &str,
    bucket: &str,
    images: &str,
    annotations: &str,
) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListTheTwoPrefixes",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": format!("arn:{partition}:s3:::{bucket}"),
                "Condition": {"StringLike": {"s3:prefix": [
                    images, format!("{images}/*"), annotations, format!("{annotations}/*"),
                ]}},
            },
            {
                "Sid": "FindTheBucket",
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": format!("arn:{partition}:s3:::{bucket}"),
            },
            {
                "Sid": "ReadImages",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": format!("arn:{partition}:s3:::{bucket}/{images}/*"),
            },
            {
                "Sid": "WriteAnnotations",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                "Resource": format!("arn:{partition}:s3:::{bucket}/{annotations}/*"),
            },
        ],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_configs_compare_across_whitespace() {
        let c = label_config(
            LabelTemplate::SemanticSegmentationPolygons,
            &["Beak".into(), "A \"b\" & <c>".into()],
        );
        assert!(c.contains("<PolygonLabels name=\"label\" toName=\"image\""));
        assert!(c.contains("value=\"A &quot;b&quot; &amp; &lt;c&gt;\""));
        assert!(same_config(&c, &c.replace('\n', " ").replace("  ", " ")));
        assert!(!same_config(
            &c,
            &label_config(LabelTemplate::BoundingBoxes, &["Beak".into()])
        ));
    }

    #[test]
    fn the_user_policy_reaches_two_prefixes_of_one_bucket() {
        let p: serde_json::Value = serde_json::from_str(&storage_user_policy(
            "aws",
            "b",
            "bird-images",
            "annotations",
        ))
        .unwrap();
        let resources: Vec<String> = p["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Resource"].as_str().unwrap().to_string())
            .collect();
        assert!(resources.iter().all(|r| r.starts_with("arn:aws:s3:::b")));
        assert!(resources.contains(&"arn:aws:s3:::b/bird-images/*".to_string()));
        assert!(!resources.iter().any(|r| r == "arn:aws:s3:::b/*"));
    }
}
