// Poll a background job's status once a second and update the progress bar; when it is done,
// show the result's link, or go there if the job promised to. The page works without it
// (reload to refresh).
(() => {
  const box = document.getElementById("job");
  if (!box) return;
  const url = box.dataset.jobStatusUrl;
  const bar = document.getElementById("job-progress");
  const status = document.getElementById("job-status");
  const message = document.getElementById("job-message");
  const error = document.getElementById("job-error");
  const done = document.getElementById("job-done");
  const link = document.getElementById("job-result");
  const tones = { failed: "badge-bad", done: "badge-ok" };
  const tick = async () => {
    let data;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      data = await response.json();
    } catch (e) {
      setTimeout(tick, 3000);
      return;
    }
    bar.value = data.percent;
    bar.textContent = `${data.percent}%`;
    status.textContent = data.status_label;
    status.className = `badge ${tones[data.status] || "badge-info"}`;
    box.className = `card job job-${data.status}`;
    message.textContent = (data.total ? `${data.done} / ${data.total} ` : "") + (data.message || "");
    if (data.status === "failed") {
      error.hidden = false;
      error.querySelector("p").textContent = `這項工作沒有完成：${data.error}`;
      document.getElementById("job-retry").hidden = !data.retryable;
      document.getElementById("job-error-help").hidden = data.retryable;
      const back = document.getElementById("job-back");
      back.hidden = data.retryable || !data.back_url;
      if (data.back_url) document.getElementById("job-back-link").href = data.back_url;
      return;
    }
    if (data.status === "done") {
      if (data.result_url) {
        link.href = data.result_url;
        done.hidden = false;
        if (data.go) window.location.assign(data.result_url);
      }
      return;
    }
    setTimeout(tick, 1000);
  };
  tick();
})();
