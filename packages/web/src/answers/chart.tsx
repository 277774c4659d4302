import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
}

/**
 * A uPlot line chart of millisecond values over time (x in Unix seconds), sized to its box and
 * coloured from the theme's CSS variables so it follows dark mode.
 */
export function TimeChart({ x, series, title }: { x: number[]; series: ChartSeries[]; title: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element || x.length === 0) return;
    const styles = getComputedStyle(document.documentElement);
    const colours = ['--chart-1', '--chart-2', '--chart-3'].map((name) => styles.getPropertyValue(name).trim());
    const ink = styles.getPropertyValue('--ink').trim();
    const grid = styles.getPropertyValue('--line').trim();
    const axis = { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid } };
    const options: Options = {
      title,
      width: element.clientWidth,
      height: 220,
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: colours[i % colours.length],
          width: 2,
          points: { show: x.length < 60 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${(v / 1000).toFixed(1)} s`),
        })),
      ],
      axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((v) => `${(v / 1000).toFixed(0)} s`) }],
    };
    const data = [x, ...series.map((s) => s.values)] as AlignedData;
    const chart = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [x, series, title]);
  return <div className="chart" ref={box} />;
}
