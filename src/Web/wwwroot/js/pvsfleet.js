// The few things Blazor cannot do without script.
window.pvsfleet = {
  // Saves text as a file: the CSV export goes through the API client (with its key), not a plain link.
  download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  },
};
