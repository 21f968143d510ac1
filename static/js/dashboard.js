/* The dashboards: each [data-chart] element gets an ECharts bar chart drawn from the page's
   json_script "dashboard-charts" (labels, values, links, colours); a click on a bar opens the
   list behind it. The table beside each chart holds the same figures (and is what prints). */
(function () {
  'use strict';

  function draw(el, data) {
    if (!window.echarts || !data || !data.values.length) { return; }
    var height = Math.max(160, 32 * data.values.length + 40);
    el.style.height = height + 'px';
    var chart = window.echarts.init(el, null, { renderer: 'svg' });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: data.labels, axisLabel: { width: 120, overflow: 'truncate' } },
      tooltip: { trigger: 'item' },
      series: [{
        type: 'bar',
        data: data.values.map(function (value, i) {
          return { value: value, itemStyle: { color: data.colours[i] || '#b02a37' } };
        }),
        label: { show: true, position: 'right' },
        cursor: 'pointer'
      }]
    });
    chart.on('click', function (params) {
      var url = data.urls[params.dataIndex];
      if (url) { window.location.href = url; }
    });
    window.addEventListener('resize', function () { chart.resize(); });
  }

  function start() {
    var source = document.getElementById('dashboard-charts');
    if (!source) { return; }
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      draw(el, charts[el.dataset.chart.replace('chart-data-', '')]);
    });
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
