// P11 Console, MultiChannel BI page: draws the trend chart and answers the ask box, with Chart.js
// (served from node_modules as /admin/assets/chart.umd.min.js, loaded before this file). No build step.
(function () {
  'use strict';

  var Chart = window.Chart;

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }
  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  var CHANNEL_LABELS = { meta: 'Meta Ads', google_ads: 'Google Ads', ga4: 'Google Analytics 4' };
  var CHANNEL_COLORS = { meta: '#1877f2', google_ads: '#0f9d58', ga4: '#f29900' };
  var PALETTE = ['#4f46e5', '#db2777', '#0891b2', '#65a30d', '#ea580c', '#7c3aed', '#475569'];

  function colorFor(key, index) {
    return CHANNEL_COLORS[key] || PALETTE[index % PALETTE.length];
  }
  function labelFor(value) {
    return CHANNEL_LABELS[value] || String(value);
  }

  var MONEY = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  var MONEY_SHORT = new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    notation: 'compact',
    maximumFractionDigits: 1,
  });
  var COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  var DECIMAL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  var PERCENT = new Intl.NumberFormat('en-US', {
    style: 'percent',
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });

  /** How a column's numbers read, from its name: money, a ratio as a percentage, or a count. */
  function kindOf(column) {
    var name = String(column).toLowerCase();
    if (/spend|cost|cpa|cpc|cpl|per_lead|amount/.test(name)) return 'money';
    if (/ctr|rate|ratio|percent/.test(name)) return 'percent';
    return 'number';
  }

  function toNumber(value) {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(value.trim())) return Number(value);
    return null;
  }

  function formatValue(column, value, short) {
    if (value === null || value === undefined) return '—';
    var n = toNumber(value);
    if (n === null || !isFinite(n)) return String(value);
    var kind = kindOf(column);
    if (kind === 'money') return (short ? MONEY_SHORT : MONEY).format(n);
    if (kind === 'percent') return PERCENT.format(n);
    return Number.isInteger(n) ? COUNT.format(n) : DECIMAL.format(n);
  }

  function baseOptions(yColumn) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        y: {
          beginAtZero: true,
          ticks: {
            callback: function (v) {
              return formatValue(yColumn, v, true);
            },
          },
        },
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              return ctx.dataset.label + ': ' + formatValue(ctx.dataset.column || yColumn, ctx.parsed.y, false);
            },
          },
        },
      },
    };
  }

  // ── Trend chart: x = bucket date, y = leads or spend, one series per channel. ──
  function initTrend() {
    var canvas = $('canvas[data-trend-chart]');
    if (!canvas || !Chart) return;
    var trend = JSON.parse(canvas.getAttribute('data-trend-chart'));
    var metric = canvas.getAttribute('data-metric') === 'spend' ? 'spend' : 'leads';
    function datasets(m) {
      return trend.series.map(function (s, i) {
        var color = colorFor(s.channel, i);
        return {
          label: s.label,
          channel: s.channel,
          column: m,
          data: s[m],
          borderColor: color,
          backgroundColor: color,
          borderWidth: 2,
          tension: 0.25,
          pointRadius: trend.labels.length > 45 ? 0 : 2.5,
        };
      });
    }
    var chart = new Chart(canvas, {
      type: 'line',
      data: { labels: trend.labels, datasets: datasets(metric) },
      options: baseOptions(metric),
    });
    $all('[data-trend-metric]').forEach(function (radio) {
      radio.addEventListener('change', function () {
        if (!radio.checked) return;
        var m = radio.value === 'spend' ? 'spend' : 'leads';
        canvas.setAttribute('data-metric', m);
        canvas.setAttribute(
          'aria-label',
          canvas.getAttribute('aria-label').replace(/^\w+/, m === 'spend' ? 'Spend' : 'Leads'),
        );
        chart.data.datasets = datasets(m);
        chart.options = baseOptions(m);
        chart.update();
        // Keep the choice when the filters are applied again or the page is reloaded.
        var field = $('[data-metric-field]');
        if (field) field.value = m;
        var url = new URL(location.href);
        url.searchParams.set('metric', m);
        history.replaceState(null, '', url.toString());
      });
    });
  }

  // ── Ask box ──
  var STATUS_TONES = { answered: 'success', no_data: 'neutral', not_permitted: 'danger', not_understood: 'warning' };
  var STATUS_LABELS = {
    answered: 'Answered',
    no_data: 'No data',
    not_permitted: 'Not permitted',
    not_understood: 'Not understood',
  };
  var askChart = null;

  function columnsOf(rows) {
    var columns = [];
    rows.forEach(function (row) {
      Object.keys(row).forEach(function (key) {
        if (columns.indexOf(key) < 0) columns.push(key);
      });
    });
    return columns;
  }

  function renderTable(table, rows) {
    var columns = columnsOf(rows);
    var head = $('thead', table);
    var body = $('tbody', table);
    head.textContent = '';
    body.textContent = '';
    var tr = document.createElement('tr');
    columns.forEach(function (c) {
      var th = document.createElement('th');
      th.textContent = c;
      if (toNumber(rows[0] && rows[0][c]) !== null) th.className = 'right';
      tr.appendChild(th);
    });
    head.appendChild(tr);
    rows.forEach(function (row) {
      var line = document.createElement('tr');
      columns.forEach(function (c) {
        var td = document.createElement('td');
        var value = row[c];
        if (toNumber(value) !== null) td.className = 'right';
        td.textContent = formatValue(c, value, false);
        td.setAttribute('data-column', c);
        line.appendChild(td);
      });
      body.appendChild(line);
    });
  }

  /** Chart.js config from the answer's spec {type, x, y[], series?} over its rows. */
  function chartConfig(spec, rows) {
    var labels = [];
    rows.forEach(function (row) {
      var x = String(row[spec.x]);
      if (labels.indexOf(x) < 0) labels.push(x);
    });
    if (
      labels.every(function (l) {
        return /^\d{4}-\d{2}-\d{2}/.test(l);
      })
    )
      labels.sort();
    var datasets = [];
    var ys = spec.y || [];
    if (spec.series) {
      var keys = [];
      rows.forEach(function (row) {
        var key = String(row[spec.series]);
        if (keys.indexOf(key) < 0) keys.push(key);
      });
      keys.forEach(function (key, i) {
        ys.forEach(function (y, j) {
          var color = colorFor(key, i * ys.length + j);
          datasets.push({
            label: ys.length > 1 ? labelFor(key) + ' · ' + y : labelFor(key),
            column: y,
            data: labels.map(function (label) {
              var match = rows.filter(function (row) {
                return String(row[spec.x]) === label && String(row[spec.series]) === key;
              })[0];
              return match ? toNumber(match[y]) : null;
            }),
            borderColor: color,
            backgroundColor: color,
            borderWidth: 2,
            tension: 0.25,
          });
        });
      });
    } else {
      ys.forEach(function (y, j) {
        var color = PALETTE[j % PALETTE.length];
        datasets.push({
          label: y,
          column: y,
          data: labels.map(function (label) {
            var match = rows.filter(function (row) {
              return String(row[spec.x]) === label;
            })[0];
            return match ? toNumber(match[y]) : null;
          }),
          borderColor: color,
          backgroundColor:
            spec.type === 'bar' && !spec.series && ys.length === 1
              ? labels.map(function (l, i) {
                  return colorFor(l, i);
                })
              : color,
          borderWidth: spec.type === 'bar' ? 0 : 2,
          tension: 0.25,
        });
      });
    }
    return {
      type: spec.type === 'bar' ? 'bar' : 'line',
      data: { labels: labels.map(labelFor), datasets: datasets },
      options: baseOptions(ys[0] || ''),
    };
  }

  function show(el, visible) {
    if (el) el.hidden = !visible;
  }

  function renderAnswer(box, answer) {
    var result = $('[data-ask-result]', box);
    var status = $('[data-ask-status]', box);
    status.textContent = STATUS_LABELS[answer.status] || answer.status;
    status.className = 'badge badge-' + (STATUS_TONES[answer.status] || 'neutral');
    status.setAttribute('data-status', answer.status);
    $('[data-ask-engine]', box).textContent =
      answer.engine === 'llm' ? 'answered by the language model' : 'answered by the built-in parser';
    $('[data-ask-message]', box).textContent = answer.message || '';
    var interpretation = $('[data-ask-interpretation]', box);
    interpretation.textContent = answer.interpretation ? 'Understood as: ' + answer.interpretation : '';
    show(interpretation, Boolean(answer.interpretation));
    var unrecognized = $('[data-ask-unrecognized]', box);
    var words = answer.unrecognized || [];
    unrecognized.textContent = words.length ? 'Not understood: ' + words.join(', ') : '';
    show(unrecognized, words.length > 0);

    var rows = Array.isArray(answer.rows) ? answer.rows : [];
    show($('[data-ask-table-wrap]', box), rows.length > 0);
    if (rows.length) renderTable($('table[data-table=ask-rows]', box), rows);

    var sqlBox = $('[data-ask-sql-box]', box);
    $('[data-ask-sql]', box).textContent = answer.sql || '';
    show(sqlBox, Boolean(answer.sql));

    if (askChart) {
      askChart.destroy();
      askChart = null;
    }
    var chartBox = $('[data-ask-chart-box]', box);
    var canvas = $('canvas[data-ask-chart]', box);
    var drawable = answer.chart && rows.length > 0 && Chart;
    show(chartBox, Boolean(drawable));
    if (drawable) {
      canvas.setAttribute('data-chart-type', answer.chart.type);
      askChart = new Chart(canvas, chartConfig(answer.chart, rows));
    }
    show(result, true);
  }

  function initAsk() {
    var box = $('[data-ask]');
    if (!box) return;
    var form = $('[data-ask-form]', box);
    var error = $('[data-error]', box);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var input = form.elements.namedItem('question');
      var button = $('[type=submit]', form);
      var question = input.value.trim();
      if (!question) return;
      error.hidden = true;
      button.disabled = true;
      box.setAttribute('aria-busy', 'true');
      fetch('/v1/analytics/ask', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ question: question }),
      })
        .then(function (res) {
          return res.text().then(function (text) {
            var data = null;
            try {
              data = text ? JSON.parse(text) : null;
            } catch (e) {
              data = null;
            }
            return { ok: res.ok, status: res.status, data: data };
          });
        })
        .catch(function () {
          return { ok: false, status: 0, data: null };
        })
        .then(function (result) {
          button.disabled = false;
          box.removeAttribute('aria-busy');
          if (result.status === 401) {
            location.assign('/admin/sign-in?next=' + encodeURIComponent(location.pathname + location.search));
            return;
          }
          if (!result.ok || !result.data) {
            error.textContent =
              (result.data && result.data.error && result.data.error.message) ||
              (result.status === 0
                ? 'The server could not be reached. Check your connection and try again.'
                : 'The request failed (HTTP ' + result.status + ').');
            error.hidden = false;
            return;
          }
          renderAnswer(box, result.data);
        });
    });
  }

  function init() {
    initTrend();
    initAsk();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
