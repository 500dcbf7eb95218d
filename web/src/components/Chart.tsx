/** A uPlot chart sized to its container: time series (x in unix seconds) or per-second curves. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color: string;
}

export interface ChartProps {
  x: number[];
  series: ChartSeries[];
  /** x as unix seconds (time axis), or plain numbers formatted by xFormat. */
  time: boolean;
  xFormat?: (v: number) => string;
  /** How the cursor's x value is named in the legend. */
  xLegend?: (v: number) => string;
  yFormat: (v: number) => string;
  bars?: boolean;
  height?: number;
  /** Upper bound of the y axis when the data stays below it (e.g. 100 for percentages). */
  yMax?: number;
  testId?: string;
}

const withAlpha = (hex: string, a: string) => `${hex}${a}`;
/** Tick steps: whole numbers only (counts, seconds, percentages), round in both decimal and clock terms. */
export const WHOLE_STEPS = [1, 2, 5, 10, 15, 20, 25, 30, 50, 60, 100, 120, 250, 300, 500, 600, 900, 1000, 1800, 2500, 3600, 5000, 7200, 1e4, 18000, 25000, 36000, 5e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7, 1e8, 1e9];
export const CLOCK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000];

export function Chart(props: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const height = props.height ?? 260;

  useEffect(() => {
    const host = el.current!;
    const bars = props.bars ? uPlot.paths.bars!({ size: [0.7, 40], gap: 1 }) : undefined;
    const opts: uPlot.Options = {
      width: Math.max(200, host.clientWidth),
      height,
      padding: [12, 8, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      legend: { live: true },
      scales: {
        x: { time: props.time, ...(props.bars ? { distr: 2 } : {}) },
        y: { range: (_u, _min, max) => [0, Math.max(props.yMax ?? 0, max > 0 ? max * 1.12 : 1)] },
      },
      axes: [
        {
          stroke: '#6b7280', grid: { show: false }, ticks: { stroke: '#e5e7eb' },
          ...(props.time ? {} : { incrs: CLOCK_STEPS }),
          ...(props.xFormat ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => props.xFormat!(v)) } : {}),
        },
        {
          stroke: '#6b7280', grid: { stroke: '#eef0f4' }, ticks: { show: false }, size: 64, incrs: WHOLE_STEPS,
          values: (_u: uPlot, splits: number[]) => splits.map((v) => props.yFormat(v)),
        },
      ],
      series: [
        { label: props.time ? 'Time' : 'Second', value: (_u, v) => (v === null || v === undefined ? '—' : (props.xLegend ?? props.xFormat ?? String)(v)) },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: withAlpha(s.color, props.bars ? 'cc' : '22'),
          paths: bars,
          points: { show: props.x.length <= 40 && !props.bars },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : props.yFormat(v)),
        })),
      ],
    };
    const u = new uPlot(opts, [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData, host);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, host.clientWidth), height }));
    ro.observe(host);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [props.x, props.series, props.time, props.bars, height, props.yMax]);

  return <div class="chart" ref={el} data-testid={props.testId} />;
}
