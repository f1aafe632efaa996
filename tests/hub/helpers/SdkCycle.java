// Drives the official national-platform SDK 2.0.1 (com.vpcp.services, not ours: its jars are
// never committed) through a full cycle against a hub, the way its own example
// (ServiceTest.java) uses it: one client object per system for the life of the program.
//
// Compiled and run by tests/hub/test_official_sdk.py. Arguments:
//   endpoint senderId senderSecret receiverId receiverSecret fromCode toCode package storeDir
// Prints one line per step, "STEP <json>", and "DONE" at the end; any exception ends the
// program with "FAILED <step>: <exception>" and exit status 1.

import com.google.gson.Gson;
import com.vpcp.services.AgencyServiceImp;
import com.vpcp.services.KnobstickServiceImp;
import com.vpcp.services.VnptProperties;
import com.vpcp.services.model.Agency;
import com.vpcp.services.model.CountReceiveEdoc;
import com.vpcp.services.model.GetAgenciesResult;
import com.vpcp.services.model.GetChangeStatusResult;
import com.vpcp.services.model.GetEdocResult;
import com.vpcp.services.model.GetReceivedEdocResult;
import com.vpcp.services.model.GetSendEdocResult;
import com.vpcp.services.model.GetSynchronizeUnit;
import com.vpcp.services.model.Knobstick;
import com.vpcp.services.model.SendEdocResult;
import com.vpcp.services.model.StatusResult;
import com.vpcp.services.model.UnitSynchronize;
import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class SdkCycle {
    private static final Gson GSON = new Gson();
    private static String step = "start";

    private static void report(Map<String, Object> values) {
        values.put("step", step);
        System.out.println("STEP " + GSON.toJson(values));
        System.out.flush();
    }

    private static Map<String, Object> basic(String status, String desc) {
        Map<String, Object> values = new LinkedHashMap<String, Object>();
        values.put("status", status);
        values.put("desc", desc);
        return values;
    }

    public static void main(String[] args) {
        try {
            run(args);
            System.out.println("DONE");
        } catch (Throwable e) {
            System.out.println("FAILED " + step + ": " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }

    private static void run(String[] a) throws Exception {
        String endpoint = a[0], senderId = a[1], senderSecret = a[2];
        String receiverId = a[3], receiverSecret = a[4];
        String fromCode = a[5], toCode = a[6], packagePath = a[7], store = a[8];

        VnptProperties senderProps =
                new VnptProperties(endpoint, senderId, senderSecret, store + "/sender", 10, 3);
        VnptProperties receiverProps =
                new VnptProperties(endpoint, receiverId, receiverSecret, store + "/receiver", 10, 3);
        KnobstickServiceImp sender = new KnobstickServiceImp(senderProps);
        KnobstickServiceImp receiver = new KnobstickServiceImp(receiverProps);
        AgencyServiceImp agencies = new AgencyServiceImp(senderProps);

        step = "send";
        SendEdocResult sent = sender.sendEdoc(
                "{\"from\":\"" + fromCode + "\",\"servicetype\":\"eDoc\",\"messagetype\":\"edoc\"}",
                packagePath);
        Map<String, Object> values = basic(sent.getStatus(), sent.getErrorDesc());
        values.put("docId", sent.getDocID());
        report(values);
        String docId = sent.getDocID();

        step = "list";
        String listJson = "{\"servicetype\":\"eDoc\",\"messagetype\":\"edoc\"}";
        GetReceivedEdocResult listed = null;
        for (int i = 0; i < 100; i++) { // the hub's worker delivers in the background
            listed = receiver.getReceivedEdocList(listJson);
            if (!"OK".equals(listed.getStatus()) || !listed.getKnobsticks().isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        values = basic(listed.getStatus(), listed.getErrorDesc());
        List<String> ids = new ArrayList<String>();
        for (Knobstick k : listed.getKnobsticks()) {
            ids.add(k.getId());
        }
        values.put("ids", ids);
        report(values);

        step = "count";
        CountReceiveEdoc counted = receiver.countReceiveEdoc("{}");
        values = basic(counted.getStatus(), counted.getErrorDesc());
        values.put("count", counted.getCount());
        report(values);

        step = "get";
        GetEdocResult got = receiver.getEdoc("{\"filePath\":\"xml\",\"docId\":\"" + docId + "\"}");
        values = basic(got.getStatus(), got.getErrorDesc());
        values.put("filePath", got.getFilePath());
        if (got.getFilePath() != null && new File(got.getFilePath()).isFile()) {
            byte[] stored = Files.readAllBytes(new File(got.getFilePath()).toPath());
            values.put("fileSize", stored.length);
            values.put("fileHasEdxml", new String(stored, "UTF-8").contains("edXMLEnvelope"));
        }
        report(values);

        step = "done";
        GetChangeStatusResult done = receiver.updateStatus(
                "{\"status\":\"done\",\"docId\":\"" + docId + "\"}");
        report(basic(done.getStatus(), done.getErrorDesc()));

        step = "list again";
        GetReceivedEdocResult again = receiver.getReceivedEdocList(listJson);
        values = basic(again.getStatus(), again.getErrorDesc());
        values.put("size", again.getKnobsticks() == null ? -1 : again.getKnobsticks().size());
        report(values);

        step = "sent";
        GetSendEdocResult sentList = sender.getSentEdocList(
                "{\"servicetype\":\"eDoc\",\"messagetype\":\"edoc\",\"docId\":\"" + docId + "\"}");
        values = basic(sentList.getStatus(), sentList.getErrorDesc());
        List<Map<String, String>> rows = new ArrayList<Map<String, String>>();
        for (StatusResult r : sentList.getStatusResult()) {
            Map<String, String> row = new LinkedHashMap<String, String>();
            row.put("senderDocId", r.getSenderDocId());
            row.put("toCode", r.getToCode());
            row.put("receiveStatus", r.getReceiveStatus());
            rows.add(row);
        }
        values.put("rows", rows);
        report(values);

        step = "agencies";
        report(agencyReport(agencies.getAgenciesList("{}")));
        step = "agencies QD20";
        report(agencyReport(agencies.getAgenciesListQD20("{\"level\":\"1\"}")));
        step = "synchronize";
        GetSynchronizeUnit sync = agencies.getSynchronizeUnit("{}");
        values = basic(sync.getStatus(), sync.getErrorDesc());
        List<Map<String, Object>> units = new ArrayList<Map<String, Object>>();
        for (UnitSynchronize unit : sync.getUnitSynchronize()) {
            Map<String, Object> row = new LinkedHashMap<String, Object>();
            row.put("code", unit.getCode());
            row.put("pid", unit.getPid());
            row.put("version", unit.getVersion());
            row.put("deleted", unit.isDeleted());
            units.add(row);
        }
        values.put("units", units);
        report(values);
    }

    private static Map<String, Object> agencyReport(GetAgenciesResult result) {
        Map<String, Object> values = basic(result.getStatus(), result.getErrorDesc());
        List<Map<String, String>> rows = new ArrayList<Map<String, String>>();
        for (Agency agency : result.getAgencies()) {
            Map<String, String> row = new LinkedHashMap<String, String>();
            row.put("code", agency.getCode());
            row.put("name", agency.getName());
            row.put("pid", agency.getPid());
            row.put("mail", agency.getMail());
            rows.add(row);
        }
        values.put("agencies", rows);
        return values;
    }
}
