// Render+'s Flamenco job type. Copy this file into the scripts/ folder beside the
// flamenco-manager executable (not its working directory) and restart the Manager; it then
// offers the job type "flamenco-renderplus" (the file's name, "_" read as "-").
//
// Render+ splits a job's frames into chunks itself and sends, in the "tasks" setting, each
// chunk's Blender options after the .blend (the override script, its job file, the frames),
// as JSON: [{"name": "chunk-0", "frames": "1-10", "args": [...]}, ...]. Each chunk becomes one
// task run with the Manager's {blender} and {blenderArgs} variables, so every Worker uses the
// farm's own Blender. A job with a movie also sends, in the "encode" setting, the encode's
// Blender options after the .blend ({"name": "encode", "args": [...]}): one more task, run once
// every chunk completed (it depends on them all), makes the movie from their frames. Written
// for Render+ (not derived from Flamenco's scripts).

const JOB_TYPE = {
    label: "Render+ batch job",
    description: "One Render+ job: frame chunks rendered with Render+'s override script",
    settings: [
        { key: "blendfile", type: "string", required: true, visible: "web",
          description: "The .blend on shared storage" },
        { key: "tasks", type: "string", required: true, visible: "hidden",
          description: "JSON list of chunks: name, frames, Blender options after the .blend" },
        { key: "encode", type: "string", required: false, visible: "hidden",
          description: "JSON: the movie's task, run after every chunk (name, Blender options)" },
    ],
};

function compileJob(job) {
    const settings = job.settings;
    const chunks = JSON.parse(settings.tasks);
    if (!Array.isArray(chunks) || chunks.length === 0) {
        throw "Render+: the job lists no chunks";
    }
    const renders = [];
    for (const chunk of chunks) {
        const task = blenderTask(chunk.name, settings.blendfile, chunk.args);
        job.addTask(task);
        renders.push(task);
    }
    if (settings.encode) {
        const encode = JSON.parse(settings.encode);
        const task = blenderTask(encode.name, settings.blendfile, encode.args);
        for (const render of renders) {
            task.addDependency(render);
        }
        job.addTask(task);
    }
}

function blenderTask(name, blendfile, args) {
    const task = author.Task(name, "blender");
    task.addCommand(author.Command("blender-render", {
        exe: "{blender}",
        exeArgs: "{blenderArgs}",
        argsBefore: [],
        blendfile: blendfile,
        args: args,
    }));
    return task;
}
