/**
 * Time-series charts for the overview (uPlot: small, and fast to redraw once a second). Each
 * chart fills its container's width and keeps the last `windowSeconds` of samples.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from './dom';

export interface SeriesSpec {
  readonly label: string;
  readonly stroke: string;
  readonly dash?: number[];
  /** Dots at each value, for series with gaps (a lone value between gaps draws no line). */
  readonly points?: boolean;
}

const HEIGHT = 220;
/** Tick spacings the time axis may use, in seconds. */
const SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** 14:05:30, the same for everyone reading a shared screenshot. */
function clock(seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export class TimeChart {
  readonly element: HTMLElement;
  #plot: uPlot;
  #resize: ResizeObserver;

  constructor(title: string, unit: string, series: readonly SeriesSpec[]) {
    const box = el('div', { class: 'chart-plot' });
    this.element = el('figure', { class: 'chart' }, el('figcaption', {}, title), box);
    this.#plot = new uPlot(
      {
        width: 600,
        height: HEIGHT,
        // a solid line's square is filled, a dashed line's left hollow with a dashed border, as its line
        legend: {
          live: false,
          markers: { fill: (_plot, index) => (series[index - 1]?.dash === undefined ? (series[index - 1]?.stroke ?? '') : 'transparent') },
        },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_plot, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          // whole seconds only: with the default sub-second steps, labels to the second repeat
          // space: a label such as 14:05:30 is about 60 px wide; uPlot's default 50 px ran them together
          { stroke: '#475569', incrs: SECOND_STEPS, space: 90, values: (_plot, splits) => splits.map((seconds) => clock(seconds)) },
          { stroke: '#475569', label: unit, size: 60 },
        ],
        series: [
          {},
          ...series.map(({ label, stroke, dash, points }) => ({
            label,
            stroke,
            width: 2,
            ...(dash === undefined ? {} : { dash }),
            spanGaps: false,
            points: { show: points === true, size: 5, fill: stroke },
          })),
        ],
      },
      [[], ...series.map(() => [])],
      box,
    );
    this.#resize = new ResizeObserver(() => {
      const width = box.clientWidth;
      if (width > 0) this.#plot.setSize({ width, height: HEIGHT });
    });
    this.#resize.observe(box);
  }

  /** Times in seconds since the epoch; one array of values per series, null where there is none. */
  setData(times: readonly number[], values: ReadonlyArray<ReadonlyArray<number | null>>): void {
    this.#plot.setData([times as number[], ...(values as Array<Array<number | null>>)]);
  }

  destroy(): void {
    this.#resize.disconnect();
    this.#plot.destroy();
  }
}
