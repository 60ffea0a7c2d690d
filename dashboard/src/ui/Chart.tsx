// One vital-sign time series drawn with uPlot, sized to its container.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export function Chart(props: { title: string; xs: number[]; ys: number[]; color?: string }) {
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
          { stroke: '#c8d0da', grid: { stroke: '#2a3442' }, ticks: { stroke: '#2a3442' } },
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
  }, [props.xs, props.ys, props.title, props.color]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={host} class="chart-host" />
    </figure>
  );
}
