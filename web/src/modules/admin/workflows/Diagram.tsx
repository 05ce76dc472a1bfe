import { useId, useMemo } from 'react';
import dagre from '@dagrejs/dagre';
import type { EdgeLabel, NodeLabel } from '@dagrejs/dagre';

export type DiagramNode = { id: string; label: string; kind: 'start' | 'end' | 'state' };
export type DiagramEdge = { from: string; to: string; label: string; key: string };

const CHAR = 7.6;

type Point = { x: number; y: number };

/** Where the line from a node's centre towards `toward` leaves its drawn box. */
function onBox(node: { x?: number; y?: number; box: number; height: number }, toward: Point): Point {
  const cx = node.x ?? 0;
  const cy = node.y ?? 0;
  const dx = toward.x - cx;
  const dy = toward.y - cy;
  if (dx === 0 && dy === 0) return { x: cx, y: cy };
  const scale = Math.min(dx === 0 ? Infinity : node.box / 2 / Math.abs(dx), dy === 0 ? Infinity : node.height / 2 / Math.abs(dy));
  return { x: cx + dx * scale, y: cy + dy * scale };
}
const FONT_NODE = 13;

/**
 * A state diagram laid out by dagre (top to bottom) and drawn as SVG. It is an image for screen
 * readers (its title and description); the table next to it carries the same content as text.
 */
export function Diagram({ nodes, edges, title, description }: { nodes: DiagramNode[]; edges: DiagramEdge[]; title: string; description: string }) {
  const id = useId().replace(/:/g, '');
  const layout = useMemo(() => {
    const graph = new dagre.graphlib.Graph<object, NodeLabel & { text: string; kind: string; box: number; loops: string[] }, EdgeLabel & { text: string }>({ multigraph: true });
    graph.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, edgesep: 20, marginx: 12, marginy: 12 });
    // Actions that keep the state (comments) are drawn as a loop to the right of the node. The room is
    // reserved on both sides, so that the box stays at the node's centre, where dagre aims the edges.
    const loops = new Map<string, string[]>();
    for (const edge of edges) if (edge.from === edge.to) loops.set(edge.from, [...(loops.get(edge.from) ?? []), edge.label]);
    for (const node of nodes) {
      const box = Math.max(90, node.label.length * (FONT_NODE * 0.6) + 28);
      const own = loops.get(node.id) ?? [];
      const room = own.length > 0 ? 44 + Math.max(...own.map((l) => l.length)) * CHAR : 0;
      graph.setNode(node.id, { text: node.label, kind: node.kind, box, loops: own, width: box + 2 * room, height: 40 + Math.max(0, own.length - 1) * 14 });
    }
    for (const edge of edges) if (edge.from !== edge.to) graph.setEdge(edge.from, edge.to, { text: edge.label, width: edge.label.length * CHAR + 8, height: 16, labelpos: 'c' }, edge.key);
    dagre.layout(graph);
    const size = graph.graph() as { width?: number; height?: number };
    return {
      width: Math.ceil(size.width ?? 300),
      height: Math.ceil(size.height ?? 200),
      nodes: graph.nodes().map((n) => ({ id: n, ...graph.node(n) })),
      edges: graph.edges().map((e) => {
        const edge = graph.edge(e);
        const points = [...(edge.points ?? [])];
        // dagre ends edges on the node's reserved area (box and loop room); end them on the box itself.
        if (points.length >= 2) {
          points[0] = onBox(graph.node(e.v), points[1]!);
          points[points.length - 1] = onBox(graph.node(e.w), points[points.length - 2]!);
        }
        return { key: `${e.v}>${e.w}>${e.name ?? ''}`, ...edge, points };
      }),
    };
  }, [nodes, edges]);

  return (
    <div className="admin-diagram">
      <svg width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`}>
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        <defs>
          <marker id={`${id}-arrow`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path className="arrow" d="M 0 0 L 10 5 L 0 10 z" />
          </marker>
        </defs>
        {layout.edges.map((edge) => (
          <g className="edge" key={edge.key}>
            <path d={(edge.points ?? []).map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ')} markerEnd={`url(#${id}-arrow)`} />
            {edge.x !== undefined && edge.y !== undefined && (
              <text x={edge.x} y={edge.y + 4} textAnchor="middle">
                {edge.text}
              </text>
            )}
          </g>
        ))}
        {layout.nodes.map((node) => (
          <g className={`node ${node.kind}`} key={node.id} transform={`translate(${(node.x ?? 0) - node.box / 2}, ${(node.y ?? 0) - node.height / 2})`}>
            <rect width={node.box} height={node.height} rx={node.kind === 'state' ? 6 : 20} />
            <text x={node.box / 2} y={node.height / 2 + 4} textAnchor="middle">
              {node.text}
            </text>
            {node.loops.length > 0 && (
              <g className="edge">
                <path d={`M ${node.box} ${node.height / 2 - 8} C ${node.box + 30} ${node.height / 2 - 26}, ${node.box + 30} ${node.height / 2 + 26}, ${node.box} ${node.height / 2 + 8}`} markerEnd={`url(#${id}-arrow)`} />
                {node.loops.map((label, i) => (
                  <text key={label} x={node.box + 30} y={node.height / 2 + 4 + (i - (node.loops.length - 1) / 2) * 14}>
                    {label}
                  </text>
                ))}
              </g>
            )}
          </g>
        ))}
      </svg>
    </div>
  );
}
