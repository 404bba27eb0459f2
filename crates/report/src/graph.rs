//! The threat graph: the STIX bundle's actors, campaigns, malware, tools, techniques,
//! indicators, vulnerabilities and mitigations, with their relationships, laid out here and
//! drawn as SVG. The page shows it without script; `web/report.js` adds pan, zoom, selection,
//! type filters and search.
//!
//! The layout is Fruchterman–Reingold force-directed placement from a deterministic start (a
//! spiral in type order), so the same bundle always gives the same picture.

use std::collections::HashMap;
use std::fmt::Write;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde_json::Value;

/// Most nodes drawn; a larger bundle keeps the most telling objects (in [`KINDS`] order) and
/// the page says how many were left out.
pub const MAX_NODES: usize = 400;

/// A graphable STIX type: its CSS class suffix, legend label and shape.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The STIX type (`attack-pattern`).
    pub stix_type: &'static str,
    /// The legend label (`Technique`).
    pub label: &'static str,
    shape: Shape,
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Circle,
    Diamond,
    Hexagon,
    Octagon,
    Square,
    Triangle,
    Star,
    Rectangle,
}

/// The graphable types, most telling first.
pub const KINDS: &[Kind] = &[
    Kind {
        stix_type: "intrusion-set",
        label: "Threat actor",
        shape: Shape::Diamond,
    },
    Kind {
        stix_type: "campaign",
        label: "Campaign",
        shape: Shape::Hexagon,
    },
    Kind {
        stix_type: "malware",
        label: "Malware",
        shape: Shape::Octagon,
    },
    Kind {
        stix_type: "tool",
        label: "Tool",
        shape: Shape::Square,
    },
    Kind {
        stix_type: "vulnerability",
        label: "Vulnerability",
        shape: Shape::Star,
    },
    Kind {
        stix_type: "attack-pattern",
        label: "Technique",
        shape: Shape::Circle,
    },
    Kind {
        stix_type: "course-of-action",
        label: "Mitigation",
        shape: Shape::Rectangle,
    },
    Kind {
        stix_type: "indicator",
        label: "Indicator",
        shape: Shape::Triangle,
    },
];

/// One node.
#[derive(Debug, Clone)]
pub struct Node {
    /// The STIX id.
    pub id: String,
    /// What the node shows (`T1059 Command and Scripting Interpreter`).
    pub label: String,
    /// Its kind (an index into [`KINDS`]).
    pub kind: usize,
    /// Position.
    pub x: f64,
    /// Position.
    pub y: f64,
}

/// One relationship between two drawn nodes.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Index of the source node.
    pub source: usize,
    /// Index of the target node.
    pub target: usize,
    /// The relationship type (`uses`).
    pub label: String,
}

/// A laid-out graph.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// The nodes drawn.
    pub nodes: Vec<Node>,
    /// The relationships between them.
    pub edges: Vec<Edge>,
    /// Graphable objects in the bundle, drawn or not.
    pub total: usize,
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
}

fn label(object: &Value) -> String {
    let name = object["name"].as_str().unwrap_or_default();
    let external = object["external_references"]
        .as_array()
        .and_then(|refs| refs.iter().find_map(|r| r["external_id"].as_str()));
    match (object["type"].as_str(), external) {
        (Some("attack-pattern"), Some(id)) => format!("{id} {name}"),
        _ if name.is_empty() => object["id"].as_str().unwrap_or_default().to_owned(),
        _ => name.to_owned(),
    }
}

/// The graph of a STIX bundle, laid out.
pub fn from_bundle(bundle: &Value) -> Graph {
    let objects = bundle["objects"].as_array().map_or(&[][..], Vec::as_slice);
    let mut candidates: Vec<(usize, &Value)> = objects
        .iter()
        .filter_map(|o| {
            let kind = KINDS
                .iter()
                .position(|k| Some(k.stix_type) == o["type"].as_str())?;
            Some((kind, o))
        })
        .collect();
    let total = candidates.len();
    // Stable: within a kind, the bundle's order.
    candidates.sort_by_key(|(kind, _)| *kind);
    candidates.truncate(MAX_NODES);
    let mut nodes: Vec<Node> = candidates
        .iter()
        .map(|(kind, o)| Node {
            id: o["id"].as_str().unwrap_or_default().to_owned(),
            label: label(o),
            kind: *kind,
            x: 0.0,
            y: 0.0,
        })
        .collect();
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let edges: Vec<Edge> = objects
        .iter()
        .filter(|o| o["type"] == "relationship")
        .filter_map(|o| {
            let source = *index.get(o["source_ref"].as_str()?)?;
            let target = *index.get(o["target_ref"].as_str()?)?;
            Some(Edge {
                source,
                target,
                label: o["relationship_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect();
    let (width, height) = layout(&mut nodes, &edges);
    Graph {
        nodes,
        edges,
        total,
        width,
        height,
    }
}

/// Fruchterman–Reingold placement. Returns the drawing's size.
fn layout(nodes: &mut [Node], edges: &[Edge]) -> (f64, f64) {
    let n = nodes.len();
    let side = 110.0 * (n.max(1) as f64).sqrt().max(3.0);
    let (width, height) = (side * 1.5, side);
    let k = (width * height / n.max(1) as f64).sqrt() * 0.6;
    // Start on a golden-angle spiral, in type order: deterministic, and neighbours of a kind
    // start near each other.
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    for (i, node) in nodes.iter_mut().enumerate() {
        let r = side * 0.45 * ((i as f64 + 0.5) / n.max(1) as f64).sqrt();
        let angle = i as f64 * golden;
        node.x = width / 2.0 + r * angle.cos() * 1.5;
        node.y = height / 2.0 + r * angle.sin();
    }
    // Fewer rounds for big graphs keep the work near 30 million pair steps.
    let rounds = (30_000_000 / (n * n).max(1)).clamp(30, 300);
    let mut temperature = width / 10.0;
    let cooling = temperature / rounds as f64;
    let mut shift = vec![(0.0f64, 0.0f64); n];
    for _ in 0..rounds {
        shift.iter_mut().for_each(|s| *s = (0.0, 0.0));
        for i in 0..n {
            for j in (i + 1)..n {
                let dx = nodes[i].x - nodes[j].x;
                let dy = nodes[i].y - nodes[j].y;
                let d2 = (dx * dx + dy * dy).max(0.01);
                let force = k * k / d2;
                shift[i].0 += dx * force;
                shift[i].1 += dy * force;
                shift[j].0 -= dx * force;
                shift[j].1 -= dy * force;
            }
        }
        for edge in edges {
            let (a, b) = (edge.source, edge.target);
            if a == b {
                continue;
            }
            let dx = nodes[a].x - nodes[b].x;
            let dy = nodes[a].y - nodes[b].y;
            let d = (dx * dx + dy * dy).sqrt().max(0.1);
            let force = d / k;
            shift[a].0 -= dx * force;
            shift[a].1 -= dy * force;
            shift[b].0 += dx * force;
            shift[b].1 += dy * force;
        }
        for (node, (sx, sy)) in nodes.iter_mut().zip(&shift) {
            // A weak pull to the centre keeps unconnected nodes in the picture.
            let gx = (width / 2.0 - node.x) * 0.02;
            let gy = (height / 2.0 - node.y) * 0.02;
            let (mx, my) = (sx + gx * k, sy + gy * k);
            let length = (mx * mx + my * my).sqrt().max(0.01);
            let step = length.min(temperature);
            node.x += mx / length * step;
            node.y += my / length * step;
        }
        temperature = (temperature - cooling).max(1.0);
    }
    fit(nodes, width, height)
}

/// Scales the positions into the drawing with a margin for labels.
fn fit(nodes: &mut [Node], width: f64, height: f64) -> (f64, f64) {
    if nodes.is_empty() {
        return (width, height);
    }
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for node in nodes.iter() {
        min_x = min_x.min(node.x);
        min_y = min_y.min(node.y);
        max_x = max_x.max(node.x);
        max_y = max_y.max(node.y);
    }
    let margin = 60.0;
    let span_x = (max_x - min_x).max(1.0);
    let span_y = (max_y - min_y).max(1.0);
    let scale = ((width - 2.0 * margin) / span_x).min((height - 2.0 * margin) / span_y);
    for node in nodes.iter_mut() {
        node.x = margin + (node.x - min_x) * scale;
        node.y = margin + (node.y - min_y) * scale;
    }
    (
        (span_x * scale + 2.0 * margin).round(),
        (span_y * scale + 2.0 * margin).round(),
    )
}

impl Kind {
    /// The node's shape as SVG, centred on the origin (for legends).
    pub fn shape(&self) -> &'static str {
        shape(self.shape)
    }
}

/// The shape of a node, centred on the origin.
fn shape(kind: Shape) -> &'static str {
    match kind {
        Shape::Circle => r#"<circle r="9"/>"#,
        Shape::Diamond => r#"<polygon points="0,-11 11,0 0,11 -11,0"/>"#,
        Shape::Hexagon => r#"<polygon points="-10,0 -5,-9 5,-9 10,0 5,9 -5,9"/>"#,
        Shape::Octagon => r#"<polygon points="-4,-10 4,-10 10,-4 10,4 4,10 -4,10 -10,4 -10,-4"/>"#,
        Shape::Square => r#"<rect x="-8" y="-8" width="16" height="16" rx="2"/>"#,
        Shape::Triangle => r#"<polygon points="0,-10 10,8 -10,8"/>"#,
        Shape::Star => {
            r#"<polygon points="0,-11 3,-3 11,-3 4,2 7,10 0,5 -7,10 -4,2 -11,-3 -3,-3"/>"#
        }
        Shape::Rectangle => r#"<rect x="-11" y="-7" width="22" height="14"/>"#,
    }
}

/// A label short enough to draw under a node (the full one is in the node's title).
fn short(label: &str) -> String {
    if label.chars().count() <= 28 {
        return label.to_owned();
    }
    let cut: String = label.chars().take(27).collect();
    format!("{}…", cut.trim_end())
}

/// The graph as an SVG element (ids `graph-svg` and `graph-viewport` are what the script
/// drives). Readable without script: every node has a title, every edge its relationship.
pub fn svg(graph: &Graph) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_svg(&mut out, graph);
    out
}

fn write_svg(out: &mut String, graph: &Graph) -> std::fmt::Result {
    write!(
        out,
        r#"<svg id="graph-svg" viewBox="0 0 {w} {h}" data-width="{w}" data-height="{h}" role="group" aria-label="Graph of the report's STIX objects and relationships: {n} nodes, {e} relationships">"#,
        w = graph.width,
        h = graph.height,
        n = graph.nodes.len(),
        e = graph.edges.len()
    )?;
    out.push_str(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="19" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="arrowhead"/></marker></defs>"#,
    );
    out.push_str(r#"<g id="graph-viewport"><g class="edges">"#);
    for (i, edge) in graph.edges.iter().enumerate() {
        let (a, b) = (&graph.nodes[edge.source], &graph.nodes[edge.target]);
        write!(
            out,
            r#"<line class="edge" data-edge="{i}" data-source="{}" data-target="{}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" marker-end="url(#arrow)"><title>{} {} {}</title></line>"#,
            edge.source,
            edge.target,
            a.x,
            a.y,
            b.x,
            b.y,
            text(&a.label),
            text(&edge.label),
            text(&b.label)
        )?;
    }
    out.push_str(r#"</g><g class="nodes">"#);
    for (i, node) in graph.nodes.iter().enumerate() {
        let kind = &KINDS[node.kind];
        write!(
            out,
            r#"<g class="node t-{}" data-index="{i}" data-id="{}" data-type="{}" transform="translate({:.1} {:.1})" tabindex="0" role="button" aria-label="{}: {}"><title>{}: {}</title>{}<text y="22">{}</text></g>"#,
            kind.stix_type,
            attr(&node.id),
            kind.stix_type,
            node.x,
            node.y,
            attr(kind.label),
            attr(&node.label),
            text(kind.label),
            text(&node.label),
            shape(kind.shape),
            text(&short(&node.label))
        )?;
    }
    out.push_str("</g></g></svg>");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(n: usize) -> Value {
        let mut objects =
            vec![json!({"type": "intrusion-set", "id": "intrusion-set--a", "name": "Actor"})];
        for i in 0..n {
            objects.push(json!({
                "type": "attack-pattern",
                "id": format!("attack-pattern--{i}"),
                "name": format!("Technique {i}"),
                "external_references": [{"external_id": format!("T{:04}", 1000 + i)}],
            }));
            objects.push(json!({
                "type": "relationship",
                "id": format!("relationship--{i}"),
                "relationship_type": "uses",
                "source_ref": "intrusion-set--a",
                "target_ref": format!("attack-pattern--{i}"),
            }));
        }
        objects.push(json!({"type": "report", "id": "report--r", "name": "not drawn"}));
        json!({"type": "bundle", "objects": objects})
    }

    #[test]
    fn the_layout_is_deterministic_and_inside_the_drawing() {
        let first = from_bundle(&bundle(12));
        let again = from_bundle(&bundle(12));
        assert_eq!(first.nodes.len(), 13);
        assert_eq!(first.edges.len(), 12);
        for (a, b) in first.nodes.iter().zip(&again.nodes) {
            assert_eq!((a.x, a.y), (b.x, b.y));
            assert!((0.0..=first.width).contains(&a.x) && (0.0..=first.height).contains(&a.y));
        }
        // Nodes do not sit on top of each other.
        for (i, a) in first.nodes.iter().enumerate() {
            for b in &first.nodes[i + 1..] {
                let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
                assert!(d > 10.0, "{} and {} are {d:.1} apart", a.label, b.label);
            }
        }
        assert_eq!(first.nodes[1].label, "T1000 Technique 0");
    }

    #[test]
    fn big_bundles_are_capped_and_say_so() {
        let graph = from_bundle(&bundle(MAX_NODES + 50));
        assert_eq!(graph.nodes.len(), MAX_NODES);
        assert_eq!(graph.total, MAX_NODES + 51);
        assert_eq!(graph.nodes[0].label, "Actor", "actors are kept first");
    }

    #[test]
    fn the_svg_escapes_labels() {
        let mut b = bundle(1);
        b["objects"][1]["name"] = json!("<script>alert(1)</script>");
        let drawn = svg(&from_bundle(&b));
        assert!(!drawn.contains("<script>"), "{drawn}");
        assert!(drawn.contains("&lt;script&gt;"));
    }
}
