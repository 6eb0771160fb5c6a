#!/usr/bin/env node
// Does a .bpmn file load in a standard BPMN modeller? bpmn.io and Camunda Modeler read files with
// bpmn-moddle (then draw them with bpmn-js from the diagram interchange), so this reads each file
// with bpmn-moddle the same way and refuses:
//   - any import warning (unknown elements or attributes in the BPMN namespaces, unresolved
//     references such as a flow's sourceRef or a shape's bpmnElement, duplicate ids);
//   - a flow node without exactly one BPMNShape with bounds, or a sequence flow without exactly
//     one BPMNEdge with two or more waypoints (a modeller draws nothing for them);
//   - a process with flow elements that no diagram plane shows.
// Extension elements in other namespaces (spiffworkflow:properties...) are kept as modellers keep
// them, not refused.
//
//   node check.mjs FILE.bpmn...     prints "ok" or the problems per file; exit 1 if any file has one

import { readFile } from 'node:fs/promises';
import { BpmnModdle } from 'bpmn-moddle';

const FLOW_CONTAINERS = ['bpmn:Process', 'bpmn:SubProcess'];

function flowElementsOf(container, found = []) {
  for (const element of container.flowElements || []) {
    found.push(element);
    if (FLOW_CONTAINERS.some((type) => element.$instanceOf(type))) {
      flowElementsOf(element, found);
    }
  }
  return found;
}

function diagramElements(definitions) {
  const shapes = new Map();
  const edges = new Map();
  const planes = [];
  const add = (map, key, value) => map.set(key, [...(map.get(key) || []), value]);
  for (const diagram of definitions.diagrams || []) {
    const plane = diagram.plane;
    if (!plane) continue;
    planes.push(plane);
    for (const di of plane.planeElement || []) {
      if (!di.bpmnElement) continue;
      if (di.$instanceOf('bpmndi:BPMNShape')) add(shapes, di.bpmnElement, di);
      if (di.$instanceOf('bpmndi:BPMNEdge')) add(edges, di.bpmnElement, di);
    }
  }
  return { shapes, edges, planes };
}

function shownProcesses(planes) {
  const shown = new Set();
  for (const plane of planes) {
    const element = plane.bpmnElement;
    if (!element) continue;
    shown.add(element);
    for (const participant of element.participants || []) {
      if (participant.processRef) shown.add(participant.processRef);
    }
  }
  return shown;
}

function describe(element) {
  return `${element.$type.replace('bpmn:', '')} '${element.id}'${element.name ? ` ("${element.name}")` : ''}`;
}

export async function check(xml) {
  const problems = [];
  let loaded;
  try {
    loaded = await new BpmnModdle().fromXML(xml, 'bpmn:Definitions');
  } catch (error) {
    return { problems: [`not readable as BPMN 2.0: ${error.message}`], nodes: 0, flows: 0 };
  }
  for (const warning of loaded.warnings) {
    problems.push(`import warning: ${warning.message}`);
  }
  const definitions = loaded.rootElement;
  const { shapes, edges, planes } = diagramElements(definitions);
  const shown = shownProcesses(planes);
  let nodes = 0;
  let flows = 0;
  for (const root of definitions.rootElements || []) {
    if (!root.$instanceOf('bpmn:Process')) continue;
    const elements = flowElementsOf(root);
    if (elements.length && !shown.has(root)) {
      problems.push(`process '${root.id}' is on no diagram plane (BPMNDiagram/BPMNPlane bpmnElement)`);
    }
    for (const element of elements) {
      if (element.$instanceOf('bpmn:FlowNode')) {
        nodes += 1;
        const found = shapes.get(element) || [];
        if (found.length !== 1) {
          problems.push(`${describe(element)} has ${found.length} BPMNShapes, not one`);
        } else if (!found[0].bounds) {
          problems.push(`the BPMNShape of ${describe(element)} has no dc:Bounds`);
        }
      } else if (element.$instanceOf('bpmn:SequenceFlow')) {
        flows += 1;
        const found = edges.get(element) || [];
        if (found.length !== 1) {
          problems.push(`${describe(element)} has ${found.length} BPMNEdges, not one`);
        } else if ((found[0].waypoint || []).length < 2) {
          problems.push(`the BPMNEdge of ${describe(element)} has fewer than two di:waypoints`);
        }
      }
    }
  }
  if (nodes === 0) {
    problems.push('no flow nodes at all');
  }
  return { problems, nodes, flows };
}

async function main(paths) {
  if (!paths.length) {
    console.error('usage: node check.mjs FILE.bpmn...');
    return 2;
  }
  let failed = 0;
  for (const path of paths) {
    const { problems, nodes, flows } = await check(await readFile(path, 'utf8'));
    if (problems.length) {
      failed += 1;
      console.log(`FAIL ${path}`);
      for (const problem of problems) console.log(`  - ${problem}`);
    } else {
      console.log(`ok ${path}: ${nodes} flow nodes and ${flows} sequence flows, each drawn`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
