// One vital-sign time series drawn with uPlot, sized to its container.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** Axis labels in the page's language, 24-hour clock; the date is added when the span crosses days. */
function timeTicks(lang: string) {
  return (_u: uPlot, splits: number[]) => {
    const span = (splits.at(-1) ?? 0) - (splits[0] ?? 0);
    const opts: Intl.DateTimeFormatOptions =
      span > 2 * 86400 ? { month: 'numeric', day: 'numeric' } : { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    return splits.map((s) => new Date(s * 1000).toLocaleString(lang, opts));
  };
}

export function Chart(props: { title: string; xs: number[]; ys: number[]; color?: string; lang: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#c8d0da', grid: { stroke: '#2a3442' }, ticks: { stroke: '#2a3442' }, values: timeTicks(props.lang) },
          { stroke: '#c8d0da', grid: { stroke: '#2a3442' }, ticks: { stroke: '#2a3442' }, size: 60 },
        ],
        series: [{}, { label: props.title, stroke: props.color ?? '#4fc3f7', width: 2, points: { show: props.xs.length < 60 } }],
      },
      [props.xs, props.ys],
      el,
    );
    const onResize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [props.xs, props.ys, props.title, props.color, props.lang]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={host} class="chart-host" />
    </figure>
  );
}
