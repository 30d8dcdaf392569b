/**
 * The report page's own script (plain ES2017, runs in the browser after the inlined chart library):
 * builds every chart from the embedded JSON, then marks the body `data-rendered="true"` and sets
 * `data-chart-count`; on failure it sets `data-render-error` instead.
 */
export const PAGE_SCRIPT = `(function () {
  'use strict';
  var body = document.body;
  try {
    var data = JSON.parse(document.getElementById('axon-data').textContent);
    var LC = window.LightweightCharts;
    var charts = [];
    var base = {
      layout: { background: { color: '#ffffff' }, textColor: '#1f2328', fontSize: 12 },
      grid: { vertLines: { color: '#eef0f3' }, horzLines: { color: '#eef0f3' } },
      timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#d0d7de', minBarSpacing: 0.01 },
      rightPriceScale: { borderColor: '#d0d7de' },
      crosshair: { mode: 0 }
    };
    function make(id) {
      var el = document.getElementById(id);
      var opts = Object.assign({}, base, { width: el.clientWidth, height: el.clientHeight });
      var chart = LC.createChart(el, opts);
      charts.push({ chart: chart, el: el });
      return chart;
    }
    function line(cols) {
      var out = new Array(cols.time.length);
      for (var i = 0; i < cols.time.length; i++) out[i] = { time: cols.time[i], value: cols.value[i] };
      return out;
    }
    data.candles.forEach(function (c) {
      var chart = make(c.id);
      var series = chart.addSeries(LC.CandlestickSeries, {
        upColor: '#26a69a', downColor: '#ef5350', borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350'
      });
      var bars = new Array(c.time.length);
      for (var i = 0; i < c.time.length; i++) {
        bars[i] = { time: c.time[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i] };
      }
      series.setData(bars);
      if (c.markers.length > 0) LC.createSeriesMarkers(series, c.markers);
      chart.timeScale().fitContent();
    });
    var eq = make('equity-chart');
    eq.addSeries(LC.LineSeries, { color: '#0969da', lineWidth: 2 }).setData(line(data.equity));
    eq.timeScale().fitContent();
    var dd = make('drawdown-chart');
    dd.addSeries(LC.AreaSeries, {
      lineColor: '#cf222e', topColor: 'rgba(207,34,46,0.05)', bottomColor: 'rgba(207,34,46,0.35)', lineWidth: 1,
      invertFilledArea: true, priceFormat: { type: 'percent' }
    }).setData(line(data.drawdown));
    dd.timeScale().fitContent();
    window.addEventListener('resize', function () {
      charts.forEach(function (c) { c.chart.resize(c.el.clientWidth, c.el.clientHeight); });
    });
    window.axonReport = { chartCount: charts.length };
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        body.setAttribute('data-chart-count', String(charts.length));
        body.setAttribute('data-rendered', 'true');
      });
    });
  } catch (e) {
    body.setAttribute('data-render-error', String(e && e.message ? e.message : e));
    throw e;
  }
})();`;
