// Poll a background job's status once a second and update the progress bar; go to the result
// when it is done. The page works without it (reload to refresh).
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
    status.classList.toggle("badge-bad", data.status === "failed");
    message.textContent = (data.total ? `${data.done} / ${data.total} ` : "") + (data.message || "");
    if (data.status === "failed") {
      error.hidden = false;
      error.querySelector("p").textContent = `這項工作沒有完成：${data.error}`;
      document.getElementById("job-retry").hidden = !data.retryable;
      document.getElementById("job-error-help").hidden = data.retryable;
      return;
    }
    if (data.status === "done") {
      if (data.result_url) {
        link.href = data.result_url;
        done.hidden = false;
      }
      return;
    }
    setTimeout(tick, 1000);
  };
  tick();
})();
