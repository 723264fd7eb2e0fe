/**
 * Draws a neighbourhood as a layered graph (Cytoscape.js with the dagre layout): dependents on
 * the left, dependencies on the right, an arrow for each "depends on". Drag pans, the wheel
 * zooms, a click on a package opens it (on "+N more", the package whose list was cut). Labels are
 * painted on a canvas: text by nature. Loaded only by package pages, as a chunk of its own.
 */
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import type { Hood } from './neighbourhood';

cytoscape.use(dagre);

// Cytoscape adds an inline <style> to the head unless an element with this id is there; the
// Content-Security-Policy refuses inline styles, so style.css holds its one rule instead
const CYTOSCAPE_STYLESHEET_ID = '__________cytoscape_stylesheet';
if (document.getElementById(CYTOSCAPE_STYLESHEET_ID) === null) {
  const marker = document.createElement('meta');
  marker.id = CYTOSCAPE_STYLESHEET_ID;
  document.head.append(marker);
}

export interface GraphView {
  /** Marks a chain (each depending on the next) in the drawing; [] clears it. */
  highlight(chain: readonly string[]): void;
  fit(): void;
  destroy(): void;
}

const FONT = '12px system-ui, sans-serif';
const measure = document.createElement('canvas').getContext('2d');

function labelWidth(label: string): number {
  if (measure === null) return label.length * 7 + 20;
  measure.font = FONT;
  return Math.ceil(measure.measureText(label).width) + 20;
}

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      shape: 'round-rectangle',
      label: 'data(label)',
      width: 'data(width)',
      height: 26,
      'font-family': 'system-ui, sans-serif',
      'font-size': 12,
      'text-valign': 'center',
      'text-halign': 'center',
      color: '#1e293b',
      'background-color': '#f1f5f9',
      'border-width': 1,
      'border-color': '#94a3b8',
    },
  },
  { selector: 'node[side = "dependency"]', style: { 'background-color': '#dbeafe', 'border-color': '#3b82f6' } },
  { selector: 'node[side = "dependent"]', style: { 'background-color': '#fef3c7', 'border-color': '#d97706' } },
  { selector: 'node[kind = "root"]', style: { 'background-color': '#1f3a5f', 'border-color': '#1f3a5f', color: '#ffffff', 'font-weight': 'bold' } },
  { selector: 'node[kind = "more"]', style: { 'background-color': '#ffffff', 'border-style': 'dashed', 'font-style': 'italic', color: '#475569' } },
  {
    selector: 'edge',
    style: {
      width: 1.2,
      'line-color': '#94a3b8',
      'target-arrow-color': '#94a3b8',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.8,
      'curve-style': 'bezier',
    },
  },
  {
    selector: '.on-path',
    style: { 'line-color': '#dc2626', 'target-arrow-color': '#dc2626', 'border-color': '#dc2626', 'border-width': 3, width: 3, 'z-index': 10 },
  },
];

const PADDING = 24;
/** Below this zoom the 12 px labels are too small to read. */
const LEGIBLE_ZOOM = 0.75;
const MIN_HEIGHT_PX = 360;
const MAX_HEIGHT_PX = 900;

/**
 * Makes the drawing as tall as the graph needs to be read whole (within bounds), fits it, and
 * when even then the labels would be too small, zooms in on the root instead: the rest is a pan
 * away, and Fit shows it all.
 */
function legibleFit(cy: cytoscape.Core, container: HTMLElement): void {
  const box = cy.elements().boundingBox();
  const zoom = Math.min(1, (container.clientWidth - 2 * PADDING) / Math.max(box.w, 1));
  container.style.height = `${Math.round(Math.min(MAX_HEIGHT_PX, Math.max(MIN_HEIGHT_PX, box.h * zoom + 2 * PADDING)))}px`;
  cy.resize();
  cy.fit(undefined, PADDING);
  if (cy.zoom() > 1.2) {
    cy.zoom(1.2);
    cy.center();
  } else if (cy.zoom() < LEGIBLE_ZOOM) {
    cy.zoom(LEGIBLE_ZOOM);
    cy.center(cy.nodes('[kind = "root"]'));
  }
}

/** A drawing is stretched sideways at most this much. */
const MAX_SPREAD = 2;

/**
 * Spreads the ranks over a container wider than the layout: the drawing uses the width it has
 * instead of leaving both sides empty, and the edges, longer and flatter, meet a node along its
 * side rather than all at one corner.
 */
function spreadRanks(cy: cytoscape.Core, container: HTMLElement): void {
  const box = cy.nodes().boundingBox();
  const room = container.clientWidth - 2 * PADDING;
  if (box.w <= 0 || box.w >= room) return;
  const factor = Math.min(MAX_SPREAD, room / box.w);
  const centre = box.x1 + box.w / 2;
  cy.nodes().positions((node) => {
    const { x, y } = node.position();
    return { x: centre + (x - centre) * factor, y };
  });
}

export function drawGraph(container: HTMLElement, hood: Hood, open: (name: string) => void): GraphView {
  const edgeIds = new Set<string>();
  const elements: cytoscape.ElementDefinition[] = [];
  for (const node of hood.nodes.values()) {
    const label = node.kind === 'more' ? `+${(node.more ?? 0).toLocaleString('en')} more` : node.name;
    elements.push({ data: { id: node.id, name: node.name, label, kind: node.kind, side: node.side ?? 'none', width: labelWidth(label) } });
  }
  for (const { from, to } of hood.edges) {
    const id = `${from}\n${to}`;
    if (edgeIds.has(id)) continue;
    edgeIds.add(id);
    elements.push({ data: { id, source: from, target: to } });
  }
  const cy = cytoscape({
    container,
    elements,
    style: STYLE,
    minZoom: 0.05,
    maxZoom: 3,
    autoungrabify: true,
    boxSelectionEnabled: false,
    selectionType: 'single',
  });
  cy.layout({ name: 'dagre', rankDir: 'LR', nodeSep: 8, rankSep: 70, fit: false } as cytoscape.LayoutOptions).run();
  spreadRanks(cy, container);
  legibleFit(cy, container);
  cy.on('tap', 'node', (event) => open(String(event.target.data('name'))));
  cy.on('mouseover', 'node', () => container.classList.add('pointing'));
  cy.on('mouseout', 'node', () => container.classList.remove('pointing'));
  // where each package is on screen, for tests and tools that click in the drawing; kept current
  // after panning and zooming, a moment after they stop
  let placing: number | undefined;
  const place = (): void => {
    const positions: Record<string, [number, number]> = {};
    cy.nodes().forEach((node) => {
      const { x, y } = node.renderedPosition();
      positions[node.id()] = [Math.round(x), Math.round(y)];
    });
    container.setAttribute('data-positions', JSON.stringify(positions));
  };
  cy.on('viewport', () => {
    window.clearTimeout(placing);
    placing = window.setTimeout(place, 150);
  });
  // a drawn page is one whose first frame with the layout is painted
  cy.one('render', () =>
    requestAnimationFrame(() => {
      place();
      container.setAttribute('data-state', 'drawn');
      container.setAttribute('data-drawn-at-ms', String(Math.round(performance.now())));
    }),
  );
  container.setAttribute('data-nodes', String(hood.nodes.size));
  return {
    highlight(chain) {
      cy.elements().removeClass('on-path');
      chain.forEach((name, index) => {
        cy.getElementById(name).addClass('on-path');
        const next = chain[index + 1];
        if (next !== undefined) cy.getElementById(`${name}\n${next}`).addClass('on-path');
      });
    },
    fit: () => cy.fit(undefined, PADDING),
    destroy: () => {
      window.clearTimeout(placing);
      cy.destroy();
    },
  };
}
