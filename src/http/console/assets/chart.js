// Draws the overview's hourly chart with uPlot from the numbers the page carries (data-hourly); the
// table beneath has the same numbers for anyone without scripts or a screen.
(function () {
  'use strict';
  const COLOURS = ['#1f5f99', '#a4161a', '#1b6e3a', '#8a5a00', '#5b3f99', '#00707a'];

  function draw(container) {
    const hourly = JSON.parse(container.dataset.hourly);
    const hours = [...new Set(hourly.map((row) => row.hour))].sort();
    const ras = [...new Set(hourly.map((row) => row.ra))].sort();
    const index = new Map(hours.map((hour, i) => [hour, i]));
    const series = [{}];
    const data = [hours.map((hour) => Date.parse(hour) / 1000)];
    ras.forEach((ra, i) => {
      for (const outcome of ['issued', 'refused']) {
        const values = hours.map(() => 0);
        for (const row of hourly) if (row.ra === ra) values[index.get(row.hour)] = row[outcome];
        data.push(values);
        series.push({ label: `${ra} ${outcome}`, stroke: COLOURS[(2 * i + (outcome === 'refused' ? 1 : 0)) % COLOURS.length], dash: outcome === 'refused' ? [6, 4] : undefined, width: 2 });
      }
    });
    // The whole range on the x axis, however few hours had requests.
    const range = [Date.parse(container.dataset.since) / 1000, Date.parse(container.dataset.until) / 1000];
    const options = { width: Math.max(320, container.clientWidth), height: 280, series, scales: { x: { time: true, range: () => range } }, axes: [{}, { label: 'requests per hour' }] };
    const chart = new uPlot(options, data, container);
    container.dataset.drawn = 'true';
    return chart;
  }

  document.addEventListener('DOMContentLoaded', () => {
    const container = document.getElementById('activity-chart');
    if (container && typeof uPlot === 'function') draw(container);
  });
})();
